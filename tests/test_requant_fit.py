"""hw/golden/requant_fit.py: a threshold table as clamp((x * M + A) >> S), exact on the reachable range.

Exhaustive over every reachable input for BatchNorm re-quantization tables as FINN computes them
(float32), hypothesis over random scales, biases, ranges and output widths, completeness against a
brute force over every small (M, A, S), and the fallback for a table that is no staircase of a line."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.golden.requant_fit import fit_muladd, multithreshold, param_words, requant_muladd


def bn_table(rng, channels: int, out_bits: int, scale: tuple[float, float], lo: int, hi: int, dtype=np.float32):
    """Thresholds of clip(round(x * s + b)) to a signed out_bits type (x * s + b >= k + 1/2), in ``dtype``
    (float32: as FINN's streamlining computes them), clipped to [lo, hi + 1] like SplitMvauThresholds."""
    s = np.exp(rng.uniform(*np.log(scale), channels)).astype(dtype)
    b = rng.uniform(-(2 ** (out_bits - 1)), 2 ** (out_bits - 1), channels).astype(dtype)
    k = np.arange(-(2 ** (out_bits - 1)), 2 ** (out_bits - 1) - 1).astype(dtype)
    T = np.ceil((k[None, :] + dtype(0.5) - b[:, None]) / s[:, None])
    return np.clip(T, lo, hi + 1), -(2 ** (out_bits - 1))


def assert_exact_everywhere(fit, T, bias, lo, hi):
    """The fitted channels equal the table on every integer of [lo, hi] (chunked: x by channels by steps)."""
    ch = np.flatnonzero(fit.exact)
    for start in range(lo, hi + 1, 2048):
        x = np.arange(start, min(hi, start + 2047) + 1)[:, None]
        want = multithreshold(x, T[ch], bias)
        got = requant_muladd(x, fit.mul[ch], fit.add[ch], fit.shift[ch], fit.out_min, fit.out_max)
        assert np.array_equal(got, want), (start, ch)


@pytest.mark.fast
@pytest.mark.parametrize("mw", [64 * 9, 512 * 9])  # the XNOR popcount range of a 64- and a 512-channel 3x3 conv
def test_bireal_requant_tables_exhaustive(mw):
    """INT8 re-quantizations of XNOR popcounts 0..MW (Bi-Real blocks) in float32: every channel exact,
    checked on every popcount; the parameters are a few dozen bits instead of 255 thresholds."""
    lo, hi = 0, mw
    T, bias = bn_table(np.random.default_rng(mw), 16, 8, (4.0 / mw, 400.0 / mw), lo, hi)
    fit = fit_muladd(T, bias, lo, hi)
    assert fit.all_exact
    assert_exact_everywhere(fit, T, bias, lo, hi)
    assert fit.mul_bits + fit.add_bits + fit.shift_bits < 64 < 255 * 14


@given(
    seed=st.integers(0, 2**32 - 1),
    in_bits=st.integers(2, 14),
    signed=st.booleans(),
    out_bits=st.integers(1, 8),
    log_scale=st.tuples(st.floats(-6, 3), st.floats(0, 3)),
    f64=st.booleans(),
)
@settings(max_examples=40, deadline=None)
@pytest.mark.fast
def test_random_tables_exact_where_claimed(seed, in_bits, signed, out_bits, log_scale, f64):
    """Every channel the fit calls exact is exact on every input; a table computed in float64 (a true
    staircase of a line, up to 2^14 inputs) is always fitted."""
    lo, hi = (-(2 ** (in_bits - 1)), 2 ** (in_bits - 1) - 1) if signed else (0, 2**in_bits - 1)
    scale = (np.exp(log_scale[0]), np.exp(log_scale[0] + log_scale[1]))
    T, bias = bn_table(np.random.default_rng(seed), 4, out_bits, scale, lo, hi, np.float64 if f64 else np.float32)
    fit = fit_muladd(T, bias, lo, hi)
    assert_exact_everywhere(fit, T, bias, lo, hi)
    if f64:
        assert fit.all_exact


def brute_force_exists(T, bias, lo, hi, max_mul_bits, max_shift):
    """Is there an exact (M, A, S) with M < 2^max_mul_bits, S <= max_shift? Tries every one."""
    x = np.arange(lo, hi + 1)[:, None]
    want = multithreshold(x, T[None, :], bias)[:, 0]
    for S in range(max_shift + 1):
        for M in range(2**max_mul_bits):
            reach = (abs(bias) + len(T) + 2) << S
            A = np.arange(-reach - M * max(abs(lo), abs(hi)), reach + M * max(abs(lo), abs(hi)) + 1)
            y = np.clip((x * M + A[None, :]) >> S, bias, bias + len(T))
            if np.any(np.all(y == want[:, None], axis=0)):
                return True
    return False


@pytest.mark.fast
def test_complete_against_brute_force():
    """The fit says "no exact width up to the limit" only when none exists (small limits, every M, A, S)."""
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(60):
        n = int(rng.integers(1, 4))
        lo = int(rng.integers(-12, 4))
        hi = lo + int(rng.integers(0, 14))
        T = np.sort(rng.integers(lo - 2, hi + 3, size=n)).astype(float)
        bias = int(rng.integers(-3, 3))
        fit = fit_muladd(T[None, :], bias, lo, hi, max_mul_bits=4, max_shift=3)
        assert bool(fit.exact[0]) == brute_force_exists(T, bias, lo, hi, 4, 3), (T, bias, lo, hi)
        found += bool(fit.exact[0])
    assert 10 < found < 60  # both outcomes occur


@pytest.mark.fast
def test_no_line_falls_back():
    """Steps 1 and 9 wide: floor(m x + a) has steps whose widths differ by at most one, so no line fits."""
    T = np.array([[0.0, 1.0, 10.0]])
    fit = fit_muladd(T, 0, -5, 20)
    assert not fit.exact[0] and fit.mul[0] == 0
    with pytest.raises(ValueError, match="threshold table"):
        param_words(fit, 1, 4, 4)


@pytest.mark.fast
def test_param_words_layout():
    """Word f, field p = {E, A, M} of channel f*PE + p (stream_requant.sv's parameter memory)."""
    lo, hi = 0, 4608
    T, bias = bn_table(np.random.default_rng(3), 6, 8, (0.01, 0.3), lo, hi)
    fit = fit_muladd(T, bias, lo, hi)
    mb, ab, eb = fit.mul_bits, fit.add_bits, fit.shift_bits
    words = param_words(fit, 3, mb, ab)
    assert len(words) == 2
    for c in range(6):
        field = words[c // 3] >> ((c % 3) * (mb + ab + eb)) & ((1 << (mb + ab + eb)) - 1)
        m, a, e = field & ((1 << mb) - 1), field >> mb & ((1 << ab) - 1), field >> (mb + ab)
        a -= (a >> (ab - 1)) << ab
        assert (m, a, e + fit.shift_min) == (fit.mul[c], fit.add[c], fit.shift[c])
