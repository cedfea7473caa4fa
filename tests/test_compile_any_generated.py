"""Generated binary networks (brevitas_models/grammar.py, generated.py) through ``flow/build.py --onnx`` to RTL.

- The kinds of network issue 25 names, written as fixed specs (brevitas_models/categories.py): each builds
  bit-exact at every stage, or (a per-channel float scale on the logits) is refused before any work with
  one line naming the node, the reason and the fix in Brevitas.
- A fixed-seed set of random networks (the first GENERATED networks of ``bench/fuzz_networks.py --seed
  RUN_SEED``): each either builds bit-exact or is refused by the rule of flow/compiler/refusals.py, never
  a traceback or a tool error. The large run is the benchmark (results/bench/fuzz.json).
"""

import json

import numpy as np
import pytest

from brevitas_models.categories import CATEGORIES, category_spec
from brevitas_models.generated import build_generated
from brevitas_models.grammar import random_spec, run_spec_seed
from flow.build import main
from flow.compiler.export import export_model, torch_forward
from flow.compiler.refusals import reason_of
from flow.compiler.ties import acceptable_labels, label_agrees
from flow.compiler.verify import stage_matches

pytestmark = pytest.mark.slow
IMAGES = 3
GENERATED = 12
RUN_SEED = 4242
BUILT = [name for name in CATEGORIES if not name.startswith("refused-")]


def build(tmp_path, capsys, spec: dict) -> tuple[int, str, object, tuple]:
    model, shape = build_generated(spec)
    export_model(model, shape, tmp_path / "net.onnx")
    args = ["--board", "Pynq-Z2", "--onnx", tmp_path / "net.onnx", "--verify-images", IMAGES]
    code = main([str(a) for a in [*args, "--output", tmp_path / "out"]])
    return code, capsys.readouterr().err, model, shape


def assert_bit_exact(tmp_path, model, shape) -> None:
    """Every stage agrees with the QONNX graph on every image, the RTL with the folded integer graph
    exactly, and Brevitas itself accepts the labels the RTL reproduces (tie-aware)."""
    summary = json.loads((tmp_path / "out" / "report" / "summary.json").read_text())
    v, r = summary["verification"], summary["rtlsim"]
    assert v["images"] == IMAGES and v["reference"] == "qonnx"
    stages = stage_matches(v)
    assert stages["streamlined"] == stages["finn"] == stages["rtl"] == IMAGES, stages
    assert r["matches"] == r["equal_to_reference"] == IMAGES
    images = np.load(tmp_path / "out" / "deploy" / "test_images.npy").astype(np.float32)
    logits = torch_forward(model, images.reshape(IMAGES, *shape))
    expected = np.load(tmp_path / "out" / "deploy" / "expected_outputs.npy").reshape(IMAGES, -1)[:, 0]
    assert label_agrees(acceptable_labels(logits), expected).all()


def assert_refused(tmp_path, code: int, err: str) -> str:
    """A refusal by the rule: status 2, one ``error:`` line with a known reason, nothing written."""
    assert code == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    reason = reason_of(last)
    assert last.startswith("error: node '") and reason is not None and "fix in Brevitas: " in last, last
    assert not (tmp_path / "out").exists()
    return reason


@pytest.mark.parametrize("name", BUILT)
def test_category_builds_bit_exact_through_rtl(tmp_path, capsys, name):
    code, err, model, shape = build(tmp_path, capsys, category_spec(name))
    assert code == 0, err
    assert "parameters counted on the folded graph" not in err  # the unfolded graph lowers (rtl_backend/graph.py)
    assert_bit_exact(tmp_path, model, shape)


def test_channel_scale_on_the_logits_is_refused_with_its_fix(tmp_path, capsys):
    code, err, _, _ = build(tmp_path, capsys, category_spec("refused-channel-scale"))
    assert assert_refused(tmp_path, code, err) == "channel-scale-logits"
    assert "per-tensor weight scale" in err.strip().splitlines()[-1]


# open failure classes of the fuzz run (index: reason, docs/compile_any.md); a fix shows up as XPASS in the summary
OPEN: dict[int, str] = {}
CASES = [
    pytest.param(i, marks=pytest.mark.xfail(reason=OPEN[i], strict=False)) if i in OPEN else i for i in range(GENERATED)
]


@pytest.mark.parametrize("i", CASES)
def test_generated_network_is_bit_exact_or_refused_up_front(tmp_path, capsys, i):
    code, err, model, shape = build(tmp_path, capsys, random_spec(run_spec_seed(RUN_SEED, i)))
    if code == 0:
        assert_bit_exact(tmp_path, model, shape)
    else:
        assert_refused(tmp_path, code, err)
