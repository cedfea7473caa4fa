"""flow/analysis/memory_fit.py: the parameter memory of a folded graph against the board's BRAM."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper

import flow.core.finn_env  # noqa: F401  (boots FINN without Vivado)
from flow.analysis.memory_fit import BRAM36_BITS, check_memory_fit, fitting_width, parameter_bits
from flow.core.boards import BOARDS
from flow.core.errors import BuildError
from flow.core.hw_graph import HW_DOMAIN


def one_mvau(mw: int, mh: int, steps: int) -> ModelWrapper:
    node = helper.make_node(
        "MVAU", ["x", "W", "T"], ["y"], domain=HW_DOMAIN, backend="fpgadataflow", name="MVAU_0",
        MW=mw, MH=mh, PE=1, SIMD=1, inputDataType="BINARY", weightDataType="BINARY", outputDataType="INT8",
        ActVal=-128, binaryXnorMode=1, noActivation=0,
    )  # fmt: skip
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, mw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, mh])],
        value_info=[helper.make_tensor_value_info("T", TensorProto.FLOAT, [mh, steps])],
    )
    return ModelWrapper(helper.make_model(graph))


@pytest.mark.fast
def test_parameter_bits_and_the_error_names_the_numbers():
    small = one_mvau(576, 64, 255)
    # 576 x 64 binary weights + 64 x 255 thresholds at the XNOR accumulator width (11 bits) + 1
    assert parameter_bits(small) == {"MVAU_0": (576 * 64, 64 * 255 * 12)}
    assert check_memory_fit(small, BOARDS["Pynq-Z2"])["fits_bram"]
    big = one_mvau(4608, 2048, 1)  # 9.44 Mbit of weights + 2048 thresholds
    report = check_memory_fit(big, BOARDS["ZCU104"])
    assert report["fits_bram"] and not report["needs_lut_rom"]
    bigger = one_mvau(4608, 4096, 1)  # 18.9 Mbit: over the ZCU104's BRAM (11.5), within BRAM + URAM (39.8)
    report = check_memory_fit(bigger, BOARDS["ZCU104"])
    assert not report["fits_bram"] and report["needs_uram"] and not report["needs_lut_rom"]
    assert report["uram_mbit"] == 28.312
    # 9.47 Mbit > the Pynq-Z2's 5.16 Mbit of BRAM + 3.40 Mbit if all 53,200 LUTs were ROMs
    with pytest.raises(BuildError, match=r"need 9\.47 Mbit .* has 5\.16 Mbit .* 3\.40 Mbit .* width <= 0\.73"):
        check_memory_fit(big, BOARDS["Pynq-Z2"], width=1.0)
    # URAM holds weights loaded at run time: 30.7 Mbit is over the ZCU104's BRAM + LUT ROM (26.2), within
    # BRAM + URAM (39.8); 56.8 Mbit is over all three (54.6)
    report = check_memory_fit(one_mvau(4608, 6656, 1), BOARDS["ZCU104"])
    assert report["needs_uram"] and not report["needs_lut_rom"]
    with pytest.raises(BuildError, match=r"need 56\.81 Mbit .* 28\.31 Mbit of URAM \(weights loaded at run time\)"):
        check_memory_fit(one_mvau(4608, 12288, 1), BOARDS["ZCU104"])
    # the Pynq-Z2 has no URAM: the same network is refused without a word of it
    with pytest.raises(BuildError) as refused:
        check_memory_fit(bigger, BOARDS["Pynq-Z2"])
    assert "URAM" not in str(refused.value)
    # weights ~ width^2, thresholds ~ width: the hinted width fills the BRAM exactly
    w = fitting_width(1.0, 9_000_000, 3_000_000, 5_160_960)
    assert 9_000_000 * w**2 + 3_000_000 * w == pytest.approx(5_160_960)
    assert BOARDS["Pynq-Z2"].bram36 * BRAM36_BITS == 5160960


@pytest.mark.fast
def test_requant_tables_counted_as_the_rtl_stores_them():
    """An XNOR layer's INT8 re-quantization (255 thresholds per channel) lowered by the RTL backend is a
    multiply-add re-quantizer: the memory check counts its (M, A, shift) bits, and the folded graph's."""
    import numpy as np

    from flow.backends.rtl import RtlBackend

    mw, mh = 576, 64
    model = one_mvau(mw, mh, 255)
    rng = np.random.default_rng(0)
    model.set_initializer("W", rng.integers(0, 2, size=(mw, mh)).astype(np.float32))
    s, b = rng.uniform(0.05, 0.5, mh), rng.uniform(-60, 60, mh)
    k = np.arange(-128, 127)
    T = np.clip(np.ceil((k[None] + 0.5 - b[:, None]) / s[:, None]), 0, mw + 1)
    model.set_initializer("T", T.astype(np.float32))
    report = check_memory_fit(model, BOARDS["Pynq-Z2"], lower=RtlBackend().parameter_graph)
    assert report["requant_nodes"] == 1
    assert report["folded_graph_mbit"] == round((mw * mh + mh * 255 * 12) / 1e6, 3)
    assert report["threshold_mbit"] * 1e6 < mh * 64 < mh * 255 * 12  # a few dozen bits per channel
