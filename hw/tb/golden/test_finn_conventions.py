"""The golden models and memory writers follow FINN's own MVAU conventions (finn-plus in the venv)."""

import numpy as np
import pytest

from hw.golden.bnn_mvau import mvau
from hw.golden.finn_mvau import binary_mvau_op
from hw.golden.mem_files import threshold_words, weight_words
from hw.golden.stream import bipolar_to_bits, unpack_beats

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("MW,MH,PE,SIMD", [(12, 6, 3, 4), (75, 4, 1, 25), (16, 8, 8, 16)])
def test_weight_file_equals_finn_decoupled_dat(MW, MH, PE, SIMD, tmp_path):
    W = np.random.default_rng(1).integers(0, 2, (MW, MH)).astype(np.float32)
    op = binary_mvau_op("MVAU_hls", "finn.custom_op.fpgadataflow.hls", MW, MH, PE, SIMD)
    op.make_weight_file(W, "decoupled_verilog_dat", str(tmp_path / "w.dat"))
    finn_words = [int(line, 16) for line in (tmp_path / "w.dat").read_text().split()]
    assert finn_words == weight_words(W, PE, SIMD)


def test_threshold_words_follow_finn_interleaving():
    MH, PE, nT, bits = 12, 3, 2, 8
    T = np.sort(np.random.default_rng(2).integers(0, 40, (MH, nT)), axis=1)
    op = binary_mvau_op("MVAU_hls", "finn.custom_op.fpgadataflow.hls", 40, MH, PE, 8)
    finn_t = op.get_hw_compatible_threshold_tensor(T.astype(np.float32))  # (1, PE, TMEM, nT)
    ours = unpack_beats(threshold_words(T, PE, bits), bits, PE * nT, signed=True).reshape(MH // PE, PE, nT)
    assert np.array_equal(ours.transpose(1, 0, 2), finn_t[0])


@pytest.mark.parametrize("noact", [0, 1])
def test_golden_mvau_equals_finn_mvau_execution(noact):
    N, MW, MH = 5, 40, 12
    rng = np.random.default_rng(3)
    x, W = rng.choice([-1, 1], (N, MW)), rng.choice([-1, 1], (MW, MH))
    T = np.sort(rng.integers(14, 27, (MH, 1)), axis=1)
    op = binary_mvau_op("MVAU", "finn.custom_op.fpgadataflow", MW, MH, 4, 8, noact=noact, n=N)
    ctx = {
        "inp": bipolar_to_bits(x).astype(np.float32),
        "weights": bipolar_to_bits(W).astype(np.float32),
        "thresh": T.astype(np.float32),
        "outp": np.zeros((N, MH), np.float32),
    }
    op.execute_node(ctx, None)
    assert np.array_equal(ctx["outp"], mvau(x, W, None if noact else T, "xnor"))
