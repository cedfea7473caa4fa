"""The five kinds of binary network issue 25 names, written our own way as specs for ``generated.py``.

- ``pool-floor-7x7``: a 2x2 max pool on a 7x7 map (PyTorch's floor mode drops the last row and column);
- ``pool-odd-shapes``: a 2x2 pool on a 5x9 map, an overlapping 3x3 / stride 2 / padding 1 ceil-mode max
  pool and an average pool;
- ``xnor-order``: XNOR-Net's conv (with bias) -> max pool -> BatchNorm (scales of both signs) -> sign(x - t);
- ``zero-padded``: binary convs that pad their +-1 maps with 0 (``padding=1``, stride 1 and 2);
- ``xnor-order-padded-average``: XNOR-Net's order with average pools after zero-padded binary convs: a conv
  bias before a zero-padded 3x3 average pool, a subsampling 1x1 / stride 2 one (fuzz seed 2026, net 26):
  position-dependent offsets that move past the pools into position-indexed thresholds;
- ``bireal-int8``: per-channel standardised int8 input, int8 stem, Bi-Real blocks on an int8 stream
  (zero-padded binary 3x3 convs, shared requantizer), global average pool, int8 classifier;
- ``int8-residual-1x1``: standardised int8 input, an unpadded binary conv, 1x1 binary residual blocks;
- ``refused-channel-scale``: XNOR-Net's per-channel weight scale alpha on the classifier with no quantizer
  after it: no exact integer hardware, refused up front (flow/compiler/refusals.py).
"""

from __future__ import annotations

import copy


def _conv(out, k=3, stride=1, pad=0, order="cnv", pool=None, shift=0.3, act="sign", bias=False, bits=1):
    return {"kind": "conv", "out": out, "k": [k, k], "stride": stride, "pad": [pad] * 4, "pad_value": 0,
            "bias": bias, "order": order, "shift": shift, "act": act, "pool": pool, "bits": bits}  # fmt: skip


def _pool(kind, k, stride, pad=0, ceil=False):
    return {"type": kind, "k": [k, k], "stride": [stride, stride], "pad": [pad, pad], "ceil": ceil}


def _head(classes=5, hidden=((8, 0.2),), bits=1, bias="none", gap=False, scaling="tensor", flatten="flatten"):
    return {"gap": gap, "flatten": flatten, "hidden": [list(h) for h in hidden], "classes": classes, "bits": bits,
            "bias": bias, "scaling": scaling}  # fmt: skip


def _spec(seed, channels, h, w, layers, head, norm="none"):
    return {"seed": seed, "input": {"channels": channels, "h": h, "w": w, "norm": norm}, "layers": layers,
            "head": head, "bn_negative": True, "quant_scale": 0.1, "shared_quant": True}  # fmt: skip


CATEGORIES = {
    "pool-floor-7x7": _spec(1, 1, 9, 9, [_conv(6, pool=_pool("max", 2, 2))], _head(bias="int32")),
    "pool-odd-shapes": _spec(
        2,
        2,
        7,
        11,
        [
            _conv(5, pool=_pool("max", 2, 2)),
            _conv(6, k=1, pool=_pool("max", 3, 2, pad=1, ceil=True)),
            _conv(4, k=1, shift="channel", pool=_pool("avg", 2, 1)),
        ],
        _head(flatten="view"),
    ),  # fmt: skip
    "xnor-order": _spec(
        3,
        1,
        12,
        12,
        [
            _conv(6, order="xnor", bias=True, pool=_pool("max", 2, 2)),
            _conv(5, order="xnor", bias=True, shift=-0.4, pool=_pool("max", 2, 2)),
        ],
        _head(hidden=()),
    ),  # fmt: skip
    "zero-padded": _spec(
        4,
        2,
        8,
        10,
        [_conv(6), _conv(7, pad=1, shift="channel"), _conv(5, stride=2, pad=1, order="xnor", pool=_pool("max", 2, 2))],
        _head(flatten="reshape"),
    ),  # fmt: skip
    "xnor-order-padded-average": _spec(
        8,
        1,
        9,
        11,
        [
            _conv(5, pad=1, order="xnor", bias=True, pool=_pool("avg", 3, 2, pad=1)),
            _conv(4, stride=2, pad=1, order="xnor", shift=-0.2, pool=_pool("avg", 1, 2)),
        ],
        _head(flatten="view"),
    ),  # fmt: skip
    "bireal-int8": _spec(
        5,
        3,
        10,
        10,
        [
            _conv(6, pad=1, act="int8", bits=8),
            {"kind": "bireal", "k": 3, "pad_value": 0, "shift": 0.3},
            {"kind": "bireal", "k": 3, "pad_value": 0, "shift": "channel"},
        ],
        _head(hidden=(), bits=8, gap=True),
        norm="channel",
    ),  # fmt: skip
    "int8-residual-1x1": _spec(
        6,
        3,
        9,
        9,
        [
            _conv(6, act="int8"),
            {"kind": "bireal", "k": 1, "pad_value": 0, "shift": 0.2},
            {"kind": "bireal", "k": 1, "pad_value": 0, "shift": -0.5},
        ],
        _head(hidden=((7, 0.1),)),
        norm="channel",
    ),  # fmt: skip
    "refused-channel-scale": _spec(
        7, 1, 8, 8, [_conv(4, pool=_pool("max", 2, 2))], _head(hidden=(), scaling="channel")
    ),
}


def category_spec(name: str) -> dict:
    if name not in CATEGORIES:
        raise ValueError(f"unknown category {name!r}; choose one of {sorted(CATEGORIES)}")
    return copy.deepcopy(CATEGORIES[name])
