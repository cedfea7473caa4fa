"""A seeded grammar of small random binary networks (specs for ``brevitas_models/generated.py``).

``random_spec(seed)`` draws, with shapes tracked so that every spec builds:
- the input: 1-3 channels, a 5-12 x 5-12 map (square or not), raw pixels or a scalar / per-channel
  standardisation followed by an int8 quantizer;
- 1-3 body layers: binary convs (kernels 1-7, also non-square; strides 1-3; no padding, zero padding,
  or a +-1 pad of a bipolar map; bias; CNV or XNOR-Net order; max / average pools of any kernel,
  stride, padding and ceil mode after them), an int8 stream with Bi-Real residual blocks
  (zero- or -1-padded), stand-alone pools;
- a head: an optional global average pool, Flatten / view / reshape, 0-2 binary FCs with bias, and a
  binary or int8 classifier with no bias, an Int32 bias or a float bias, a per-tensor or (XNOR-Net's)
  per-channel weight scale;
- BatchNorm scales of either sign, shifts ``t`` of 0, small, large or per channel, the int8 quantizer's
  scale (power of two or not), one shared int8 quantizer or one per use.
Some combinations have no exact integer hardware (a float bias or a per-channel scale on the logits,
int8 adds of different scales); the compiler refuses those up front (flow/compiler/refusals.py).
"""

from __future__ import annotations

import random

from hw.golden.bnn_pool import pool_out_dim

MAX_FEATURES = 256  # flatten size kept small: CI and the fuzz benchmark build many networks


def _shift(rng: random.Random):
    r = rng.random()
    if r < 0.4:
        return 0.0
    if r < 0.75:
        return round(rng.uniform(-1.5, 1.5), 3)
    if r < 0.9:
        return "channel"
    return round(rng.choice([-1, 1]) * rng.uniform(3, 10), 3)


def _pool(rng: random.Random, h: int, w: int):
    """A pool PyTorch accepts on an h x w map (padding <= kernel / 2), with its output size; None if none fits."""
    for _ in range(10):
        k = [rng.randint(1, min(3, h)), rng.randint(1, min(3, w))]
        if rng.random() < 0.6:
            k[1] = k[0] = min(k)
        stride = [rng.randint(1, 3), rng.randint(1, 3)] if rng.random() < 0.5 else list(k)
        pad = [rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2)] if rng.random() < 0.3 else [0, 0]
        kind = rng.choice(["max", "max", "avg"])
        spec = {"type": kind, "k": k, "stride": stride, "pad": pad, "ceil": rng.random() < 0.3}
        try:
            oh = pool_out_dim(h, k[0], stride[0], pad[0], pad[0], spec["ceil"])
            ow = pool_out_dim(w, k[1], stride[1], pad[1], pad[1], spec["ceil"])
        except ValueError:
            continue
        if k != [1, 1] or stride != [1, 1]:
            return spec, oh, ow
    return None


def _conv(rng: random.Random, c: int, h: int, w: int, stream: str, first: bool):
    """A conv layer of the spec and the map it leaves (channels, h, w), or None when none fits."""
    for _ in range(20):
        kh = rng.randint(1, 7)
        kw = kh if rng.random() < 0.8 else rng.randint(1, 7)
        stride = rng.choice([1, 1, 1, 2, 3])
        pad_value = 0
        pad = [0, 0, 0, 0]
        if rng.random() < 0.5:
            pad = [rng.randint(0, kh - 1), rng.randint(0, kw - 1)]
            pad = pad + pad if rng.random() < 0.8 else pad + [rng.randint(0, kh - 1), rng.randint(0, kw - 1)]
            if stream == "bipolar" and rng.random() < 0.3:
                pad_value = rng.choice([-1, 1])
        oh = (h + pad[0] + pad[2] - kh) // stride + 1
        ow = (w + pad[1] + pad[3] - kw) // stride + 1
        if oh < 1 or ow < 1:
            continue
        out = rng.randint(1, 7)
        layer = {"kind": "conv", "out": out, "k": [kh, kw], "stride": stride, "pad": pad, "pad_value": pad_value,
                 "bias": rng.random() < 0.3, "order": rng.choice(["cnv", "cnv", "xnor"]), "shift": _shift(rng),
                 "act": "int8" if rng.random() < 0.25 else "sign", "pool": None,
                 "bits": 8 if first and stream == "int" and rng.random() < 0.3 else 1}  # fmt: skip
        if rng.random() < 0.45:
            pooled = _pool(rng, oh, ow)
            if pooled is not None:
                layer["pool"], oh, ow = pooled
        return layer, out, oh, ow
    return None


def _body(rng: random.Random, c: int, h: int, w: int, stream: str) -> tuple[list, int, int, int, str]:
    layers: list = []
    for i in range(rng.randint(1, 3)):
        if stream == "int8" and rng.random() < 0.6:
            k = rng.choice([1, 3, 3, 5])
            layers.append({"kind": "bireal", "k": k, "pad_value": rng.choice([0, 0, -1]), "shift": _shift(rng)})
            continue
        if i > 0 and rng.random() < 0.15:
            pooled = _pool(rng, h, w)
            if pooled is not None and pooled[0]["type"] == "max":
                layers.append({"kind": "pool", **pooled[0]})
                h, w = pooled[1], pooled[2]
                continue
        drawn = _conv(rng, c, h, w, stream, first=not layers)
        if drawn is None:
            break
        layer, c, h, w = drawn
        layers.append(layer)
        avg = layer["pool"] is not None and layer["pool"]["type"] == "avg"
        stream = "int8" if layer["act"] == "int8" else "bipolar"
        if avg and layer["order"] == "cnv":
            stream = "int" if stream == "bipolar" else "int8-avg"
        if stream == "int8-avg":  # an average of the int8 stream: re-quantize (Bi-Real's adds need one scale)
            layer["act"], layer["pool"], stream = "int8", None, "int8"
    return layers, c, h, w, stream


def random_spec(seed: int) -> dict:
    """One random network spec (module docstring); the same seed gives the same spec."""
    rng = random.Random(seed)
    c0, h0, w0 = rng.randint(1, 3), rng.randint(5, 12), rng.randint(5, 12)
    if rng.random() < 0.6:
        w0 = h0
    norm = rng.choice(["none", "none", "scalar", "channel"])
    layers, c, h, w, stream = _body(rng, c0, h0, w0, "int" if norm == "none" else "int8")
    gap = c * h * w > MAX_FEATURES or rng.random() < (0.6 if stream == "int8" else 0.15)
    hidden = [[rng.randint(3, 12), _shift(rng)] for _ in range(rng.choice([0, 1, 1, 2]))]
    bias = rng.choices(["none", "int32", "float"], [0.5, 0.35, 0.15])[0]
    bits = 8 if rng.random() < 0.3 else 1
    head = {"gap": gap, "flatten": rng.choice(["flatten", "view", "reshape"]), "hidden": hidden,
            "classes": rng.randint(2, 10), "bits": bits, "bias": bias if hidden or bias != "int32" else "none",
            "scaling": "channel" if bits == 1 and rng.random() < 0.15 else "tensor"}  # fmt: skip
    return {
        "seed": seed,
        "input": {"channels": c0, "h": h0, "w": w0, "norm": norm},
        "layers": layers,
        "head": head,
        "bn_negative": rng.random() < 0.7,
        "quant_scale": rng.choice([0.0625, 0.125, 0.1, 0.37, 1.0]),
        "shared_quant": rng.random() < 0.85,
    }


RUN_SEED_STRIDE = 1_000_003


def run_spec_seed(run_seed: int, i: int) -> int:
    """The spec seed of network ``i`` of a run (bench/fuzz_networks.py ``--seed``, the tests' fixed set)."""
    return run_seed * RUN_SEED_STRIDE + i
