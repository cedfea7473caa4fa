"""Fast checks of the numpy golden models against independent formulas and FINN/qonnx's own ops."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from qonnx.custom_op.general.multithreshold import multithreshold
from qonnx.custom_op.general.xnorpopcount import xnorpopcountmatmul

from hw.golden.bnn_labelselect import label_select
from hw.golden.bnn_mvau import acc_bits, acc_range, mvau, mvau_acc
from hw.golden.bnn_pool import pool_nhwc, pool_out_dim
from hw.golden.mem_files import threshold_words, weight_words
from hw.golden.stream import bipolar_to_bits, pack_beats, pack_bytes, unpack_beats, unpack_bytes
from hw.golden.stream_dwc import convert_beats

pytestmark = pytest.mark.fast
rng = np.random.default_rng(0)


def test_pack_unpack_roundtrip_and_bit_order():
    assert pack_beats([1, 0, 0, 1], 1, 4) == [0b1001]
    assert pack_beats([3, -1], 4, 2) == [0xF3]  # element 0 in the LSBs, two's complement
    x = rng.integers(-8, 8, size=(5, 6))
    assert np.array_equal(unpack_beats(pack_beats(x, 4, 3), 4, 3, signed=True).reshape(5, 6), x)


@pytest.mark.parametrize("elem_bits,per_beat,beat_bytes", [(8, 28, 28), (1, 32, 4), (10, 1, 2), (3, 5, 2), (7, 9, 9)])
def test_byte_and_int_forms_agree(elem_bits, per_beat, beat_bytes):
    """pack_bytes (harness files, DMA buffers) and pack_beats (cocotb) are one packing: beat integer =
    the little-endian value of its bytes; a beat wider than its elements is zero-padded."""
    elems = np.random.default_rng(elem_bits).integers(0, 2**elem_bits, size=(3, per_beat * 4))
    data = pack_bytes(elems, elem_bits, per_beat, beat_bytes)
    assert data.shape == (12, beat_bytes) and data.dtype == np.uint8
    assert [int.from_bytes(r.tobytes(), "little") for r in data] == pack_beats(elems, elem_bits, per_beat)
    assert np.array_equal(unpack_bytes(data, elem_bits, per_beat).reshape(3, -1), elems)
    if elem_bits == 8:  # element 0 in byte 0
        assert data[0, 0] == elems[0, 0] and data[0, 1] == elems[0, 1]
    signed = elems - 2 ** (elem_bits - 1)
    back = unpack_bytes(pack_bytes(signed, elem_bits, per_beat, beat_bytes), elem_bits, per_beat, signed=True)
    assert np.array_equal(back.reshape(3, -1), signed)
    with pytest.raises(ValueError):
        pack_bytes(elems, elem_bits, per_beat, beat_bytes=(elem_bits * per_beat) // 8 - 1)


def test_width_converter_regroups_whole_elements():
    """convert_beats (bit string) = the same elements packed with another number per beat, for random
    element widths and per-beat counts (non-divisible ones too)."""
    for _ in range(200):
        elem_bits, a, b = int(rng.integers(1, 10)), int(rng.integers(1, 40)), int(rng.integers(1, 40))
        elems = rng.integers(0, 1 << elem_bits, size=int(np.lcm(a, b)) * int(rng.integers(1, 4)))
        assert convert_beats(pack_beats(elems, elem_bits, a), a * elem_bits, b * elem_bits) == pack_beats(
            elems, elem_bits, b
        )
    with pytest.raises(ValueError, match="do not fill"):
        convert_beats([1, 2, 3], 8, 16)


def test_xnor_acc_matches_qonnx_xnorpopcount():
    x, W = rng.choice([-1, 1], (7, 75)), rng.choice([-1, 1], (75, 12))
    ref = xnorpopcountmatmul(bipolar_to_bits(x), bipolar_to_bits(W))
    assert np.array_equal(mvau_acc(x, W, "xnor"), ref)
    assert np.array_equal(mvau_acc(bipolar_to_bits(x), bipolar_to_bits(W), "xnor"), ref)
    # P = (dot + MW) / 2 against a loop over agreeing positions
    assert mvau_acc(x[:1], W[:, :1])[0, 0] == int(np.sum(x[0] == W[:, 0]))


def test_int_acc_is_signed_dot():
    x, W = rng.integers(0, 256, (4, 27)), rng.choice([-1, 1], (27, 8))
    assert np.array_equal(mvau_acc(x, W, "int"), x @ W)
    assert np.array_equal(mvau_acc(x, bipolar_to_bits(W), "int"), x @ W)


def test_threshold_matches_qonnx_multithreshold():
    x, W = rng.choice([-1, 1], (6, 64)), rng.choice([-1, 1], (64, 16))
    T = np.sort(rng.integers(20, 44, (16, 3)), axis=1)
    acc = mvau_acc(x, W)
    ref = multithreshold(acc.astype(np.float32), T.astype(np.float32), out_scale=1.0, out_bias=-1.0)
    assert np.array_equal(mvau(x, W, T, "xnor", out_bias=-1), ref)


@pytest.mark.parametrize("mode,ib,sg", [("xnor", 1, False), ("int", 8, False), ("int", 4, True)])
def test_acc_bits_cover_range(mode, ib, sg):
    lo, hi = acc_range(27, mode, ib, sg)
    b = acc_bits(27, mode, ib, sg)
    assert -(2 ** (b - 1)) <= lo and hi <= 2 ** (b - 1) - 1


def test_weight_words_layout():
    MW, MH, PE, SIMD = 6, 4, 2, 3
    W = rng.choice([-1, 1], (MW, MH))
    words = weight_words(W, PE, SIMD)
    assert len(words) == (MH // PE) * (MW // SIMD)
    for nf in range(MH // PE):
        for sf in range(MW // SIMD):
            for p in range(PE):
                for s in range(SIMD):
                    bit = (words[nf * (MW // SIMD) + sf] >> (p * SIMD + s)) & 1
                    assert bit == (W[sf * SIMD + s, nf * PE + p] > 0)


def test_threshold_words_layout_and_clip():
    T = np.array([[-5, 2], [0, 40], [1, 1], [3, 4]])
    words = threshold_words(T, PE=2, bits=6, acc_lo=-4, acc_hi=10)
    vals = unpack_beats(words, 6, 4, signed=True).reshape(2, 2, 2)
    assert np.array_equal(vals[0], [[-4, 2], [0, 11]])  # clipped to [lo, hi + 1]
    assert np.array_equal(vals[1], [[1, 1], [3, 4]])


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 9), w=st.integers(1, 9), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3),
    sw=st.integers(1, 3), ph=st.integers(0, 2), pw=st.integers(0, 2), ceil=st.booleans(), seed=st.integers(0, 99),
)  # fmt: skip
def test_pool_golden_equals_torch(h, w, kh, kw, sh, sw, ph, pw, ceil, seed):
    """pool_nhwc (max with min lanes, sum) against torch's max_pool2d / avg_pool2d for every geometry
    PyTorch accepts: padding <= kernel / 2, ceil mode, any stride."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    assume(2 * ph <= kh and 2 * pw <= kw and h + 2 * ph >= kh and w + 2 * pw >= kw)
    x = np.random.default_rng(seed).integers(-4, 5, (2, h, w, 3))
    t = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2)
    out = tuple(pool_out_dim(s, k, st_, p, p, ceil) for s, k, st_, p in ((h, kh, sh, ph), (w, kw, sw, pw)))
    flip = np.array([False, True, False])
    ours = pool_nhwc(x, (kh, kw), (sh, sw), (ph, pw), out, "max", flip)
    ref = F.max_pool2d(t, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil).permute(0, 2, 3, 1).numpy()
    ref_min = -F.max_pool2d(-t, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(ours, np.where(flip, ref_min, ref))
    # a sum pool is the average of PyTorch times the divisor where that divisor is KH*KW (zero pads
    # counted); ceil-mode windows hanging over the padded input divide by less
    if not ceil or all(
        (o - 1) * s + k <= n + 2 * p for o, s, k, n, p in zip(out, (sh, sw), (kh, kw), (h, w), (ph, pw), strict=True)
    ):
        avg = F.avg_pool2d(t, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil, count_include_pad=True)
        ref_sum = np.rint(avg.permute(0, 2, 3, 1).numpy() * kh * kw)
        assert np.array_equal(pool_nhwc(x, (kh, kw), (sh, sw), (ph, pw), out, "sum"), ref_sum)


def test_label_select_matches_onnx_topk():
    import onnxruntime as rt
    from onnx import TensorProto, helper

    x = rng.integers(-4, 4, (20, 10)).astype(np.float32)  # many ties
    k = 3
    g = helper.make_graph(
        [helper.make_node("TopK", ["x", "k"], ["v", "i"])],
        "topk",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape),
            helper.make_tensor_value_info("k", TensorProto.INT64, [1]),
        ],
        [
            helper.make_tensor_value_info("v", TensorProto.FLOAT, [20, k]),
            helper.make_tensor_value_info("i", TensorProto.INT64, [20, k]),
        ],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 7
    sess = rt.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {"x": x, "k": np.array([k], dtype=np.int64)})[1]
    assert np.array_equal(label_select(x, k), ref)
