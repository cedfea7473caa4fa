"""A threshold table as an integer multiply-add-shift, exact on the input's reachable range.

A MultiThreshold with N sorted thresholds t_0 <= ... <= t_{N-1} per channel and out_bias b is the
non-decreasing staircase ``f(x) = b + #{i : x >= t_i}``. On a finite input range [lo, hi] it is also

    g(x) = clamp((x * M + A) >> S, b, b + N)          (>> is the arithmetic shift: floor division by 2^S)

whenever (M, A, S) satisfy, for every non-empty step [x0, x1] of f with value k (at most N + 1 steps):

    k > b      :  x0 * M + A >= k * 2^S               (g(x0) >= k)
    k < b + N  :  x1 * M + A <= (k + 1) * 2^S - 1     (g(x1) <= k)

Both f and g (M >= 0) are non-decreasing, so g = k at a step's two ends means g = k on all of it: these
2(N + 1) integer inequalities are a proof of g == f on [lo, hi], no sampling involved.

For one S the feasible (M, A) are a convex set: A must lie in [Alo(M), Ahi(M)] with
Alo(M) = max over lower rows of (k 2^S - x0 M), Ahi(M) = min over upper rows of ((k+1) 2^S - 1 - x1 M),
so h(M) = Alo(M) - Ahi(M) is convex and piecewise linear; an integer M with h(M) <= 0 exists iff h's
minimum over the integers is <= 0, found by a binary search on the sign of h(M + 1) - h(M). Feasibility
is monotone in S ((M, A, S) exact => (2M, 2A, S + 1) exact), so the smallest S per channel is a binary
search too. Everything is vectorized over the channels, in int64 (|x| < 2^31, M <= 2^31, S <= 40, N < 2^12).

``fit_muladd`` returns per channel its smallest exact shift and the smallest M there (M grows with S:
M / 2^S approximates the channel's scale to about 2 log2(N) bits, since N thresholds of arbitrary
fractional position leave a slope window of about 1 / (N * span)); one shift for all channels would
widen M by log2 of the scales' spread. It says which channels have no exact (M, A) with
M < 2^max_mul_bits and S <= max_shift: those need the threshold table.

Only the rows on the convex hulls of the lower points (x0, k) and upper points (x1, k + 1) bound
Alo and Ahi, for every M and S: the search runs on those (a few per channel instead of N + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# M unsigned, < 2^31 (x * M stays in int64): one DSP48E2 per lane while x and {0, M} fit 27 x 18 bits,
# two while they fit 27 x 35 (the stem's 24-bit accumulator needs about 25-bit multipliers)
MAX_MUL_BITS = 31
MAX_SHIFT = 40


@dataclass(frozen=True)
class MulAddFit:
    """clamp((x * mul[c] + add[c]) >> shift[c], out_min, out_max) per channel c, exact where ``exact[c]``."""

    mul: np.ndarray  # (C,) int64, 0 <= mul < 2^max_mul_bits
    add: np.ndarray  # (C,) int64
    shift: np.ndarray  # (C,) int64, the smallest exact shift of each channel
    out_min: int
    out_max: int
    exact: np.ndarray  # (C,) bool

    @property
    def all_exact(self) -> bool:
        return bool(self.exact.all())

    @property
    def mul_bits(self) -> int:
        """Unsigned bits of the largest multiplier (at least 1)."""
        return max(1, int(self.mul.max()).bit_length())

    @property
    def shift_min(self) -> int:
        """The shift every exact channel has (the hardware's constant shift)."""
        return int(self.shift[self.exact].min()) if self.exact.any() else 0

    @property
    def shift_bits(self) -> int:
        """Bits of an exact channel's shift beyond shift_min (0: one shift for all)."""
        return int(self.shift[self.exact].max() - self.shift_min).bit_length() if self.exact.any() else 0

    @property
    def add_bits(self) -> int:
        """Two's-complement bits of the widest addend."""
        return max(signed_bits(int(self.add.min())), signed_bits(int(self.add.max())))


def signed_bits(v: int) -> int:
    """Bits of a two's-complement number holding v."""
    return (v.bit_length() if v >= 0 else (-v - 1).bit_length()) + 1


def requant_muladd(x, mul, add, shift, out_min: int, out_max: int) -> np.ndarray:
    """The hardware's function: x (..., C) integers -> clamp((x * mul + add) >> shift, out_min, out_max)."""
    y = (np.asarray(x, dtype=np.int64) * np.asarray(mul, np.int64) + np.asarray(add, np.int64)) >> np.asarray(shift)
    return np.clip(y, out_min, out_max)


def multithreshold(x, T, out_bias: int) -> np.ndarray:
    """The table's function counted literally: x (..., C), T (C, N) -> out_bias + #{i : x >= T[c, i]}."""
    x = np.asarray(x, dtype=np.int64)
    return int(out_bias) + (x[..., None] >= np.asarray(T)).sum(axis=-1)


def _steps(T: np.ndarray, out_bias: int, lo: int, hi: int):
    """The rows of the proof: step starts/ends (C, N + 1), their values, which rows are lower/upper bounds."""
    C, N = T.shape
    c = np.clip(np.sort(T, axis=1), lo, hi + 1)
    x0 = np.concatenate([np.full((C, 1), lo, np.int64), c], axis=1)
    x1 = np.concatenate([c, np.full((C, 1), hi + 1, np.int64)], axis=1) - 1
    level = np.broadcast_to(out_bias + np.arange(N + 1, dtype=np.int64), (C, N + 1))
    step = x0 <= x1  # non-empty steps
    lower = step & (level > out_bias)
    upper = step & (level < out_bias + N)
    return x0, x1, level, lower, upper


def _hull(x, y, keep, upper: bool):
    """``keep`` narrowed to the vertices of the upper (lower) convex hull of the points (x, y) per channel,
    x strictly increasing along the kept points. Only those bound max_i(y_i 2^S - M x_i) (min for the
    lower hull) for every M and S: a point under a chord of two others never attains the maximum.
    Vectorized: every pass drops each point under (over) the chord of its kept neighbours."""
    keep = keep.copy()
    idx = np.arange(x.shape[1])
    sign = 1 if upper else -1
    while True:
        prev = np.maximum.accumulate(np.where(keep, idx, -1), axis=1)
        prev = np.concatenate([np.full((x.shape[0], 1), -1), prev[:, :-1]], axis=1)
        nxt = np.minimum.accumulate(np.where(keep, idx, x.shape[1])[:, ::-1], axis=1)[:, ::-1]
        nxt = np.concatenate([nxt[:, 1:], np.full((x.shape[0], 1), x.shape[1])], axis=1)
        inner = keep & (prev >= 0) & (nxt < x.shape[1])
        p, n = np.clip(prev, 0, None), np.clip(nxt, None, x.shape[1] - 1)
        xp, yp = np.take_along_axis(x, p, 1), np.take_along_axis(y, p, 1)
        xn, yn = np.take_along_axis(x, n, 1), np.take_along_axis(y, n, 1)
        # cross >= 0: the point is on or under the chord (upper hull), on or over it (lower hull)
        cross = sign * ((xn - xp) * (yp - y) + (x - xp) * (yn - yp))
        drop = inner & (cross >= 0)
        if not drop.any():
            return keep
        keep &= ~drop


def _compact(values, keep):
    """The kept entries of each row moved to the front, rows cut to the longest; (values..., mask)."""
    order = np.argsort(~keep, axis=1, kind="stable")
    width = max(1, int(keep.sum(axis=1).max()))
    order = order[:, :width]
    return [np.take_along_axis(v, order, 1) for v in values], np.take_along_axis(keep, order, 1)


def _proof_rows(T: np.ndarray, out_bias: int, lo: int, hi: int):
    """Lower rows (x0, k) and upper rows (x1, k + 1) on their hulls, compacted: (xl, kl, ml, xu, ku, mu)."""
    x0, x1, level, lower, upper = _steps(T, out_bias, lo, hi)
    lower = _hull(x0, level, lower, upper=True)
    upper = _hull(x1, level + 1, upper, upper=False)
    (xl, kl), ml = _compact([x0, level], lower)
    (xu, ku), mu = _compact([x1, level + 1], upper)
    return xl, kl, ml, xu, ku, mu


BIG = np.int64(1) << 62


def _alo_ahi(M, S, rows):
    """Alo(M) = max (k 2^S - x0 M) over lower rows, Ahi(M) = min (k' 2^S - 1 - x1 M) over upper rows
    (M, S: (C,) int64); +-2^62 where a channel has no such row."""
    xl, kl, ml, xu, ku, mu = rows
    alo = np.where(ml, (kl << S[:, None]) - xl * M[:, None], -BIG).max(axis=1)
    ahi = np.where(mu, (ku << S[:, None]) - 1 - xu * M[:, None], BIG).min(axis=1)
    return alo, ahi


def _h(M, S, rows):
    alo, ahi = _alo_ahi(M, S, rows)
    return alo - ahi


def _bisect(a, b, pred):
    """Per channel the smallest integer v in [a, b] with pred(v) (pred monotone: False..False True..True);
    b where none is True below b."""
    a, b = a.copy(), b.copy()
    while np.any(a < b):
        m = (a + b) // 2
        yes = pred(m)
        b = np.where(yes, m, b)
        a = np.where(yes, a, m + 1)
    return a


def _mul_cap(S, steps: int):
    """An integer M in the feasible interval exists iff one <= (N - 1) 2^S + 1 does (every lower bound on M
    is ((k_i - k_j - 1) 2^S + 1) / (x0_i - x1_j) with k_i - k_j <= N and x0_i - x1_j >= 1); capped at
    2^31 so that x * M stays in int64."""
    return np.minimum((np.int64(steps) << S) + 1, np.int64(1) << 31)


def _feasible_mul(S, rows, steps: int):
    """Per channel the smallest integer M >= 0 with Alo(M) <= Ahi(M) at shift S[c], and whether one exists."""
    zero = np.zeros_like(S)
    argmin = _bisect(zero, _mul_cap(S, steps), lambda m: _h(m + 1, S, rows) >= _h(m, S, rows))  # h convex
    ok = _h(argmin, S, rows) <= 0
    first = _bisect(zero, argmin, lambda m: _h(m, S, rows) <= 0)  # h falls until its argmin
    return first, ok


def fit_muladd(T, out_bias: int, lo: int, hi: int, max_mul_bits: int = MAX_MUL_BITS,
               max_shift: int = MAX_SHIFT) -> MulAddFit:  # fmt: skip
    """(M, A, S) with clamp((x M + A) >> S, b, b + N) == MultiThreshold(x, T, b) for every integer x in
    [lo, hi]; see the module docstring."""
    T = np.asarray(T)
    if T.ndim != 2 or T.shape[1] < 1 or not np.array_equal(T, np.round(T)):
        raise ValueError("thresholds must be a (channels, steps) table of integers")
    if not (-(2**31) < lo <= hi < 2**31) or not 0 <= max_shift <= 40 or T.shape[1] >= 2**12 or abs(out_bias) >= 2**12:
        raise ValueError(f"range [{lo}, {hi}], shift {max_shift}, {T.shape[1]} steps or bias beyond the int64 proof")
    C, N = T.shape
    rows = _proof_rows(T.astype(np.int64), int(out_bias), int(lo), int(hi))
    # the smallest exact shift per channel (feasibility is monotone in S); max_shift + 1: none
    s_min = _bisect(np.zeros(C, np.int64), np.full(C, max_shift + 1, np.int64),
                    lambda s: _feasible_mul(np.minimum(s, max_shift), rows, N)[1] & (s <= max_shift))  # fmt: skip
    exact = s_min <= max_shift
    S = np.where(exact, s_min, 0)
    mul, ok = _feasible_mul(S, rows, N)
    exact &= ok & (mul < (np.int64(1) << max_mul_bits))
    add = _alo_ahi(mul, S, rows)[0]
    add = np.where(add == -BIG, np.int64(out_bias) << S, add)  # no lower row: f = b on the whole range
    return MulAddFit(mul=np.where(exact, mul, 0), add=np.where(exact, add, 0), shift=np.where(exact, S, 0),
                     out_min=int(out_bias), out_max=int(out_bias) + N, exact=exact)  # fmt: skip


def param_words(fit: MulAddFit, pe: int, mul_bits: int, add_bits: int) -> list[int]:
    """stream_requant's parameter memory: Channels/PE words; word f, field p = {E, A, M} of channel f*PE + p
    (M in the low mul_bits bits, A in two's complement above, E = shift - shift_min in the top
    shift_bits bits)."""
    mul, add, extra = fit.mul.astype(np.int64), fit.add.astype(np.int64), fit.shift - fit.shift_min
    if not fit.all_exact:
        raise ValueError("a channel has no exact multiply-add: it needs its threshold table")
    if mul.size % pe:
        raise ValueError(f"PE={pe} must divide {mul.size} channels")
    if int(mul.max()) >> mul_bits or signed_bits(int(add.min())) > add_bits or signed_bits(int(add.max())) > add_bits:
        raise ValueError(f"parameters do not fit M {mul_bits} / A {add_bits} bits")
    fields = [
        (int(e) << add_bits | int(a) & ((1 << add_bits) - 1)) << mul_bits | int(m)
        for m, a, e in zip(mul, add, extra, strict=True)
    ]
    width = mul_bits + add_bits + fit.shift_bits
    return [sum(fields[f * pe + p] << (p * width) for p in range(pe)) for f in range(mul.size // pe)]


def write_param_mem(fit: MulAddFit, pe: int, mul_bits: int, add_bits: int, path) -> None:
    from hw.golden.mem_files import write_words

    write_words(param_words(fit, pe, mul_bits, add_bits), pe * (mul_bits + add_bits + fit.shift_bits), path)
