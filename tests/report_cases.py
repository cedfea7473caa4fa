"""Generated inputs of the report pages: build summaries and sweep results from a small grammar.

``random_summary(rng)`` draws a summary.json the way builds of any network write one (any block count,
any board, with or without simulation, synthesis, folding search, provenance) and then removes keys and
blanks values at random, as an older or a newer build (other engineers add keys in parallel) would
leave them. ``well_formed(html)`` checks that a page's tags nest and close."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np

from flow.core.boards import BOARDS

VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "source", "wbr"}
OPS = ["MVAU_hls", "StreamingFIFO_rtl", "StreamingDataWidthConverter_rtl", "ConvolutionInputGenerator_rtl",
       "ShiftbnnMaxPool", "Thresholding_rtl", "LabelSelect_hls", "ShiftbnnAdd", "DuplicateStreams_hls"]  # fmt: skip
NASTY = ["<script>alert(1)</script>", 'a"b', "x & y", "ünïcode ✓", ""]


def _maybe(rng, value, p_none: float = 0.15):
    return None if rng.random() < p_none else value


def _blocks(rng, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        op = OPS[int(rng.integers(len(OPS)))]
        row = {"name": f"{op}_{i}", "op_type": op, "cycles": int(rng.integers(1, 40000)),
               "lut": int(rng.integers(0, 9000)), "bram36": float(rng.integers(0, 20)) / 2,
               "folding": f"PE {int(rng.integers(1, 64))}/64", "can_unfold": bool(rng.random() < 0.5),
               "finn_layers": [f"{op}_{i}"], "finn_cycles": int(rng.integers(1, 40000)),
               "finn_lut": int(rng.integers(0, 20000)), "finn_bram36": float(rng.integers(0, 30)) / 2,
               "fifo_depth": int(rng.integers(2, 5000)) if op.startswith("StreamingFIFO") else None,
               "yosys_lut": int(rng.integers(0, 9000)), "yosys_ff": int(rng.integers(0, 9000)),
               "yosys_bram36": float(rng.integers(0, 20)) / 2}  # fmt: skip
        rows.append({k: v for k, v in row.items() if rng.random() > 0.1 or k == "name"})
    return rows


def full_summary(rng, n_blocks: int | None = None) -> dict:
    n = int(rng.integers(1, 70)) if n_blocks is None else n_blocks
    board = str(rng.choice([*BOARDS, "Unknown-Board"]))
    blocks = _blocks(rng, n)
    images = int(rng.integers(1, 2000))
    stages = ["qonnx", "streamlined", "finn", "rtl"]
    ref = str(rng.choice(["brevitas", "qonnx"]))
    lut = int(rng.integers(100, 400000))
    return {
        "board": board, "part": "xc7z020clg400-1", "clock_mhz": float(rng.choice([100.0, 200.0, 187.5])),
        "backend": str(rng.choice(["rtl", "finn-hls"])), "model": str(rng.choice(["xnor_mlp", *NASTY])),
        "shift": [0.5, 0.0, 1.0] if rng.random() < 0.3 else _maybe(rng, float(rng.normal())),
        "shift_override": _maybe(rng, {"trained_shift": 0.8, "shift": 0.0, "images": images,
                                       "accuracy_trained": 0.9, "accuracy_shifted": 0.5}, 0.6),
        "input_shape": [1, 3, 32, 32],
        "verification": {"images": images, "source": str(rng.choice(["fashion-mnist", "random"])), "reference": ref,
                         **{f"{ref}_vs_{s}": _maybe(rng, int(rng.integers(0, images + 1))) for s in stages},
                         "float_ties": int(rng.integers(0, 50)), "output_ties": int(rng.integers(0, 50)),
                         "qonnx_logits_exact": _maybe(rng, images),
                         "accuracy": {s: float(rng.random()) for s in ["reference", *stages[:3]]},
                         "first_mismatch": _maybe(rng, {f"{ref}_vs_finn": 3}, 0.7) or {}},
        "estimate": {"lut": lut, "bram36": float(rng.integers(0, 400)) / 2, "dsp": 0, "uram": 0,
                     "cycles_per_frame": int(rng.integers(1, 1e6)), "bottleneck": blocks[0]["name"],
                     "latency_cycles": 5000, "fps": float(rng.random() * 1e6)},
        "target": _maybe(rng, {"target_fps": 20000 if rng.random() < 0.5 else "max",
                               "reached": bool(rng.random() < 0.5), "measured_fps": 1234.5, "model_fps": 2345.0,
                               "model_cycles_per_frame": 42000,
                               "bottleneck": str(rng.choice([b["name"] for b in blocks])),
                               "limit": _maybe(rng, "X cannot unfold further", 0.5),
                               "cost_model": {"lut": int(rng.integers(100, 200000)), "bram36": 12.5, "fits": bool(
                                   rng.random() < 0.5), "budget_fraction": 0.85}, "search_steps": 3}, 0.2),
        "rtl": {"dir": "rtl", "top": "shiftbnn_top", "fifo_depths": {}},
        "rtlsim": _maybe(rng, {"images": images, "matches": images, "cycles_per_frame": 42000.0,
                               "latency_cycles": 90000, "fps": 2380.9, "clock_mhz": 100.0,
                               "sim_images_per_s": 12.5, "stall_run": {"images": 50, "matches_free_run": 50}}, 0.3),
        "synth": _maybe(rng, {"tool": "yosys 0.70", "lut": int(rng.integers(100, 100000)), "ff": 5000,
                              "bram36": 90.0, "dsp": 0, "fits": True, "over_budget": {},
                              "depth": {"critical_path_ns": 7.12, "critical_path_lut_levels": 11,
                                        "critical_path_from": "bnn_mvau.sv:120", "est_fmax_mhz": 140}}, 0.5),
        "bitstream": {"status": "skipped", "reason": "Vivado not found"},
        "steps": [{"name": s, "seconds": float(rng.random() * 100), "status": str(rng.choice(["ok", "skipped"]))}
                  for s in ("export_qonnx", "streamline", "folding", "verify", "rtlsim", "synth", "report")],
        "blocks": blocks,
        "warnings": [str(rng.choice(NASTY)) or "warning: x", "warning: all images get label 3"],
        "provenance": _maybe(rng, {"commit": "97d98690a3", "dirty": bool(rng.random() < 0.5),
                                   "dirty_files": ["flow/x.py"], "command": "python flow/build.py --board Pynq-Z2",
                                   "date": "2026-12-06 05:30:00 UTC", "versions": {"finn-plus": "1.6.1"}}, 0.3),
        "fit": {"fits": False, "message": "a key this page does not know yet"},
    }  # fmt: skip


def damage(rng, data, p: float = 0.12):
    """``data`` with keys removed and values set to None at random, recursively."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            roll = rng.random()
            if roll < p and key != "name":
                continue
            out[key] = None if roll < 1.5 * p and key != "name" else damage(rng, value, p)
        return out
    if isinstance(data, list):
        return [damage(rng, v, p) for v in data]
    return data


def random_summary(rng) -> dict:
    return damage(rng, full_summary(rng)) if rng.random() < 0.8 else full_summary(rng)


def random_results(rng) -> dict:
    """A sweep's results.json: scalar and per-layer shifts, variants, 1-5 seeds, keys removed at random."""
    shifts = [0.0, *sorted(rng.choice([0.1, 0.3, 0.5, 0.8, 1.2, 2.0], int(rng.integers(1, 5)), replace=False))]
    seeds = list(range(int(rng.integers(1, 6))))
    groups = [(f"t={t:g}", "shift", float(t)) for t in shifts] + [("t=[0.8,0,0]", "shift", [0.8, 0.0, 0.0]),
              ("t=0.8 (bn_bias)", "bn_bias", 0.8), ("t=0 (learnable)", "learnable", 0.0)]  # fmt: skip
    summary, runs = [], []
    for label, variant, shift in groups:
        accs = [float(0.85 + 0.02 * rng.random()) for _ in seeds]
        summary.append({"label": label, "variant": variant, "shift": shift, "seeds": seeds, "accuracies": accs,
                        "mean": float(np.mean(accs)), "std": float(np.std(accs))})  # fmt: skip
        runs += [{"label": label, "seed": s, "test_accuracy": a, "folder": f"runs/{label}_seed{s}"}
                 for s, a in zip(seeds, accs, strict=True)]  # fmt: skip
    comparisons = [
        {
            "a": "t=0.8",
            "b": "t=0",
            "difference": 0.004,
            "paired_ci95": [-0.001, 0.009],
            "paired_excludes_zero": False,
            "welch_ci95": [0.001, 0.007],
            "welch_excludes_zero": True,
        }
    ]
    results = {"command": "python flow/sweep.py", "model": "xnor_mlp", "dataset": "digits", "best": "t=0.8",
               "summary": summary, "comparisons": comparisons, "runs": runs, "epochs": 1}  # fmt: skip
    return damage(rng, results, 0.05) if rng.random() < 0.5 else results


class _Nesting(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def well_formed(page: str) -> list[str]:
    """Nesting errors of ``page`` (empty when every tag closes in order)."""
    parser = _Nesting()
    parser.feed(page)
    parser.close()
    return parser.errors + [f"<{t}> never closed" for t in parser.stack]
