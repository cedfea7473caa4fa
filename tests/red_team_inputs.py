"""The bad inputs the red-team tests make in Python: a tiny model with one bad value, a crafted pickle,
a deploy folder whose simulator is a script (FAKE_SIM), and the flags of a tiny training (TINY)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import torch

from brevitas_models.registry import build_model

KWARGS = {"hidden": [16, 16], "shift": 0.25}
TINY = ["--dataset", "digits", "--hidden", "16,16,16", "--threads", "1", "--no-progress", "--epochs", "1"]


class Evil:
    """Unpickling this runs ``touch <marker>``: what a crafted CIFAR batch could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def tiny_model(changes: dict | None = None):
    """The xnor_mlp of KWARGS, eval mode; ``changes``: tensor name -> a value for its first element."""
    model = build_model("xnor_mlp", **KWARGS)
    tensors = {**dict(model.named_buffers()), **dict(model.named_parameters())}
    with torch.no_grad():
        for name, value in (changes or {}).items():
            tensors[name].view(-1)[0] = value  # one bad value is enough
    return model.eval()


FAKE_SIM = textwrap.dedent(
    """\
    #!{python}
    import argparse, json, time
    import numpy as np
    p = argparse.ArgumentParser()
    for a in ("--input", "--output", "--stats"): p.add_argument(a)
    p.add_argument("--images", type=int)
    a, _ = p.parse_known_args()
    {body}
    np.zeros(a.images, np.uint8).tofile(a.output)
    json.dump({{"cycles_per_frame": 10, "latency_cycles": 12, "cycles": 10 * a.images}}, open(a.stats, "w"))
    """
)


TOP = {"top": "shiftbnn_top", "in_width": 8, "out_width": 8, "in_elem_bits": 8, "in_elems_per_beat": 1,
       "in_beats_per_image": 4, "in_datatype": "UINT8", "in_shape_nhwc": [1, 2, 2, 1], "out_elem_bits": 8,
       "out_elems_per_beat": 1, "out_beats_per_image": 1, "out_datatype": "UINT8", "out_shape": [1, 1]}  # fmt: skip


def fake_deploy(folder: Path) -> Path:
    """A deploy folder (flow/deploy/package.py) whose simulator is FAKE_SIM: 3 images of 2x2 pixels."""
    import numpy as np

    from flow.deploy.package import make_deploy_package

    (folder / "rtl").mkdir()
    (folder / "rtl" / "top.json").write_text(json.dumps(TOP))
    (folder / "rtlsim").mkdir()
    sim = folder / "rtlsim" / "shiftbnn_sim"
    sim.write_text(FAKE_SIM.format(python=sys.executable, body="pass"))
    sim.chmod(0o755)
    summary = {"board": "Pynq-Z2", "model": "m", "shift": 0.0, "input_shape": [1, 1, 2, 2], "clock_mhz": 100.0}
    images = np.arange(12, dtype=np.uint8).reshape(3, 1, 2, 2)
    return make_deploy_package(folder, summary, images, np.zeros(3, np.int64))
