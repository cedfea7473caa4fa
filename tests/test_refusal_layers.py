"""A refusal raised after streamlining names the user's layer (flow/compiler/refusals.py ``carry_origins``):
FINN's transformations make new nodes without metadata, and the layer names travel with the tensors the
new nodes take over. Generated networks (brevitas_models/generated.py) refused when the graph is converted
to hardware, after streamlining rewrote every node: a per-channel float scale on the classifier, and a
position-dependent offset (a conv bias summed by a zero-padded average pool) before an int8 quantizer."""

import re

import onnx
import pytest

from brevitas_models.categories import _conv, _head, _pool, _spec, category_spec
from brevitas_models.generated import build_generated
from flow.build import main
from flow.compiler.export import export_model
from flow.compiler.refusals import ORIGIN_KEY, reason_of

pytestmark = pytest.mark.slow
OFFSET_BODY = [_conv(5, pad=1, order="xnor", bias=True, act="int8", pool=_pool("avg", 3, 2, pad=1))]
CASES = {  # name: (spec, reason, the refused node's layer holds)
    "channel-scale": (category_spec("refused-channel-scale"), "channel-scale-logits", "/head/"),
    "channel-scale-padded-average": (
        {**category_spec("refused-channel-scale"), "layers": category_spec("xnor-order-padded-average")["layers"]},
        "channel-scale-logits",
        "/head/",
    ),
    "position-offset": (
        _spec(8, 1, 9, 11, OFFSET_BODY, _head(hidden=(), bits=8)),
        "position-offset",
        "/conv/",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_late_refusal_names_the_exported_layer(tmp_path, capsys, name):
    spec, reason, where = CASES[name]
    model, shape = build_generated(spec)
    export_model(model, shape, tmp_path / "net.onnx")
    graph = onnx.load(str(tmp_path / "net.onnx")).graph  # the export stamps the names torch gave the layers
    exported = {e.value for node in graph.node for e in node.metadata_props if e.key == ORIGIN_KEY}
    args = ["--board", "Pynq-Z2", "--onnx", tmp_path / "net.onnx", "--verify-images", 2, "--output", tmp_path / "o"]
    code = main([str(a) for a in args])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and reason_of(last) == reason, last
    layer = re.search(r"node '[^']+' \(layer '([^']+)'\): ", last)  # the node's own layer, not one before it
    assert layer is not None and layer.group(1) in exported, (last, sorted(exported))
    assert where in layer.group(1), last
