"""What the red-team tests share (tests/test_red_team.py: the CLI cases; tests/test_red_team_faults.py:
the driver, timeouts, signals and files): the case tables, the checks every case makes, small models.

Each case asserts the exit status, exactly one ``error:`` line and no traceback on stderr, and that
every file that existed before is byte-for-byte unchanged afterwards (nothing created either).
docs/safety.md lists the cases and their outcome (a test keeps it complete)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import textwrap
from pathlib import Path

import torch

from brevitas_models.registry import build_model

ROOT = Path(__file__).resolve().parent.parent
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


def snapshot(root: Path) -> dict:
    """Every entry under ``root``: file hash, link target or folder (symlinks not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            elif not path.is_file():  # a FIFO: never read (it would block)
                out[rel] = "special"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_one_error(code: int, err: str, expected_code: int, fragment: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed process stays one until its reaper collects it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


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


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# --------------------------------------------------------------------------------- the CLI cases
def board(*a):
    return ["--board", "Pynq-Z2", *a]


# Issue 28 (second round), by class; the sandbox files are tests/red_team_sandbox.py's.
ROUND2_BUILD = {
    # the replace rule: git work trees, .git, inputs (the data folder a checkpoint records too), empty paths
    "build-output-dot-git": ("build", board("--output", "{box}/repo/.git", "--force"), 2, "inside a .git folder"),
    "build-output-git-root": ("build", board("--output", "{box}/repo", "--force"), 2, "would replace the git work"),
    "build-output-tracked-forced": (
        "build",
        board("--output", "{box}/repo/results", "--force"),
        2,
        "inside the git work tree",
    ),
    "build-output-recorded-data": (
        "build",
        board("--checkpoint", "{box}/records_data.pt", "--output", "{box}/prev_with_data"),
        2,
        "holds the input",
    ),
    "build-output-recorded-data-forced": (
        "build",
        board("--checkpoint", "{box}/records_data.pt", "--output", "{box}/prev_with_data/data", "--force"),
        2,
        "holds the input",
    ),
    "build-output-in-data-dir": (
        "build",
        board("--dataset", "mnist", "--data-dir", "{box}/mnistdir", "--output", "{box}/mnistdir/o"),
        2,
        "lies inside the input folder",
    ),
    "build-output-empty": ("build", board("--output", ""), 2, "want a path"),
    # inputs are data: node domains, annotations, JSON depth, FIFOs, ignored attributes
    "build-onnx-module-domain": ("build", board("--onnx", "{box}/onnx/domain_os.onnx"), 2, "has domain 'os'"),
    "build-onnx-bipolar-input": (
        "build",
        board("--onnx", "{box}/onnx/bipolar.onnx", "--output", "{box}/o"),
        2,
        "annotated BIPOLAR",
    ),
    "build-folding-deep": ("build", board("--folding", "{box}/fold/deep.json"), 2, "nested more than 64"),
    "build-folding-fifo": ("build", board("--folding", "{box}/fifo.json"), 2, "is a FIFO"),
    "build-folding-fifo-depths": (
        "build",
        board("--folding", "{box}/fold/fifo_depths.json"),
        2,
        "does not read 'inFIFODepths'",
    ),
    "build-folding-defaults-fifo": (
        "build",
        board("--folding", "{box}/fold/default_fifo.json"),
        2,
        "does not read 'outFIFODepths'",
    ),
    "build-folding-uram-7series": ("build", board("--folding", "{box}/fold/uram.json"), 2, "'ultra' is not available"),
    "build-checkpoint-shift-nan": ("build", board("--checkpoint", "{box}/shift_nan.pt"), 2, "kwargs.shift is nan"),
    "build-checkpoint-shift-mode": ("build", board("--checkpoint", "{box}/shift_mode.pt"), 2, "shift_mode must be"),
    "build-data-dir-no-dataset": (
        "build",
        board("--model", "xnor_mlp", "--data-dir", "{box}/mnistdir"),
        2,
        "which data set is it",
    ),
    "build-require-bitstream-no-vivado": ("build", board("--require-bitstream"), 2, "Vivado not found"),
}
ROUND2_TRAIN_SWEEP = {
    "train-output-dot-git": ("train", ["--model", "xnor_mlp", "--output", "{box}/repo/.git/x"], 2, "inside a .git"),
    "train-output-tracked": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--output", "{box}/repo/results", "--force"],
        2,
        "inside the git work tree",
    ),
    "train-output-not-a-run": ("train", ["--model", "xnor_mlp", *TINY, "--output", "{box}/notbuild"], 2, "--force"),
    "train-output-data-dir": (
        "train",
        ["--model", "xnor_mlp", "--dataset", "mnist", "--data-dir", "{box}/mnistdir", "--output", "{box}/mnistdir"],
        2,
        "holds the input",
    ),
    "train-output-empty": ("train", ["--model", "xnor_mlp", "--output", ""], 2, "want a path"),
    "train-threads-huge": ("train", ["--model", "xnor_mlp", "--threads", "100000", "--output", "{box}/t"], 2, "1024"),
    "train-workers-huge": ("train", ["--model", "xnor_mlp", "--workers", "100000", "--output", "{box}/t"], 2, "128"),
    "train-seed-huge": ("train", ["--model", "xnor_mlp", "--seed", str(2**64), "--output", "{box}/t"], 2, "4294967295"),
    "train-batch-one": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--batch-size", "1", "--output", "{box}/t"],
        2,
        "at least 2",
    ),
    "train-lr-diverges": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--lr", "1e30", "--output", "{box}/t"],
        2,
        "diverged",
    ),
    "train-shift-mode-typo": (
        "train",
        ["--model", "xnor_mlp", "--model-kwargs", '{"shift_mode": "chanel"}', "--output", "{box}/t"],
        2,
        "shift_mode must be 'layer' or 'channel'",
    ),
    "train-count-true": (
        "train",
        ["--model", "xnor_cnv", "--model-kwargs", '{"in_channels": true}', "--output", "{box}/t"],
        2,
        "in_channels must be an integer in 1..1024",
    ),
    "train-resume-epoch-beyond": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--resume", "--output", "{box}/resume99"],
        2,
        "claims epoch 99",
    ),
    "train-resume-missing-field": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--resume", "--output", "{box}/resume_keys"],
        2,
        "field 'kwargs' is missing",
    ),
    "train-resume-wrong-type": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--resume", "--output", "{box}/resume_type"],
        2,
        "field 'epoch' is missing or not of type int",
    ),
    "sweep-jobs-huge": ("sweep", ["--model", "xnor_mlp", "--jobs", "100000", "--output", "{box}/s"], 2, "256"),
    "sweep-threads-huge": ("sweep", ["--model", "xnor_mlp", "--threads", "5000", "--output", "{box}/s"], 2, "1024"),
    "sweep-output-tracked": ("sweep", ["--model", "xnor_mlp", "--output", "{box}/repo/results"], 2, "git work tree"),
    "sweep-output-not-a-sweep": ("sweep", ["--model", "xnor_mlp", "--output", "{box}/notbuild"], 2, "--force"),
    "sweep-output-data-dir": (
        "sweep",
        ["--model", "xnor_mlp", "--dataset", "mnist", "--data-dir", "{box}/mnistdir", "--output", "{box}/mnistdir/s"],
        2,
        "lies inside the input folder",
    ),
}
ROUND2_OTHERS = {
    "throughput-output-tracked": ("throughput", ["--output", "{box}/repo/notes.json"], 2, "inside the git work tree"),
    "throughput-output-dot-git": ("throughput", ["--output", "{box}/repo/.git/t.json"], 2, "inside a .git folder"),
    "throughput-steps-huge": ("throughput", ["--steps", "10000000", "--output", "{box}/tp.json"], 2, "100000"),
    "results-deep-json": ("results_summary", ["{box}/deep_results"], 2, "nested more than 64"),
    "results-readme-not-ours": ("results_summary", ["{box}/results_ok"], 2, "not a previous output"),
    "bitstream-not-a-build": (
        "build_bitstream",
        ["{box}/notbuild_rtl", "--board", "Pynq-Z2", "--tcl-only"],
        2,
        "is not a previous output of flow/build.py",
    ),
    "bitstream-top-json-types": (
        "build_bitstream",
        ["{box}/bad_top", "--board", "Pynq-Z2", "--tcl-only"],
        2,
        "field 'in_width' must be a positive integer",
    ),
    "bitstream-top-json-deep": ("build_bitstream", ["{box}/deep_top", "--board", "Pynq-Z2"], 2, "nested more than"),
    "persistence-no-results": ("persistence", ["{box}/results_ok", "--output", "{box}/p"], 2, "cannot read it"),
    "persistence-deep-json": ("persistence", ["{box}/deep_results/a", "--output", "{box}/p"], 2, "nested more than"),
    "persistence-output-empty": ("persistence", ["{box}/results_ok", "--output", ""], 2, "want a path"),
}

# (tool, argv with {box} for the sandbox, expected exit, fragment of the error line)
CASES = {
    # flow/build.py
    "build-shift-nan": ("build", board("--shift", "nan"), 2, "finite number"),
    "build-shift-minus-inf": ("build", board("--shift=-inf"), 2, "finite number"),
    "build-shift-inf": ("build", board("--shift", "inf"), 2, "finite number"),
    "build-shift-text": ("build", board("--shift", "abc"), 2, "want a number"),
    "build-fps-tiny": ("build", board("--target-fps", "1e-9"), 2, "--target-fps must lie between 1"),
    "build-fps-inf": ("build", board("--target-fps", "inf"), 2, "finite number"),
    "build-fps-above-clock": ("build", board("--target-fps", "1e9"), 2, "one image per cycle"),
    "build-fps-text": ("build", board("--target-fps", "fast"), 2, "want a number"),
    "build-dataset-unknown": ("build", board("--dataset", "svhn"), 2, "invalid choice: 'svhn'"),
    "build-data-dir-missing": ("build", board("--dataset", "mnist", "--data-dir", "{box}/nope"), 2, "is not a folder"),
    "build-verify-huge": ("build", board("--verify-images", "1000000000000"), 2, "between 1 and 100000"),
    "build-verify-zero": ("build", board("--verify-images", "0"), 2, "between 1 and 100000"),
    "build-no-board": ("build", [], 2, "--board is required"),
    "build-unknown-board": ("build", ["--board", "Arty"], 2, "unknown board 'Arty'"),
    "build-unknown-flag": ("build", board("--frobnicate"), 2, "unrecognized arguments"),
    "build-unknown-model": ("build", board("--model", "nope"), 2, "unknown model 'nope'"),
    "build-model-kwargs-unknown-key": (
        "build",
        board("--model", "xnor_mlp", "--model-kwargs", '{"foo": 1}'),
        2,
        "unexpected keyword argument 'foo'",
    ),
    "build-model-args-alias-unknown-key": (
        "build",
        board("--model", "xnor_mlp", "--model-args", '{"foo": 1}'),
        2,
        "'foo'",
    ),
    "build-model-kwargs-not-object": (
        "build",
        board("--model", "xnor_mlp", "--model-kwargs", "[1]"),
        2,
        "JSON object",
    ),
    "build-model-kwargs-nan": ("build", board("--model", "xnor_mlp", "--model-kwargs", '{"shift": NaN}'), 2, "NaN"),
    "build-model-kwargs-zero-hidden": (
        "build",
        board("--model", "xnor_mlp", "--model-kwargs", '{"hidden": [0]}'),
        2,
        "cannot be built",
    ),
    "build-model-kwargs-bad-in-size": (
        "build",
        board("--model", "bireal_cnv", "--model-kwargs", '{"in_size": 30}'),
        2,
        "cannot be built",
    ),
    "build-kwargs-with-checkpoint": (
        "build",
        board("--checkpoint", "{box}/run", "--model-kwargs", "{}"),
        2,
        "a checkpoint fixes the arguments",
    ),
    "build-checkpoint-other-model": (
        "build",
        board("--model", "xnor_cnv", "--checkpoint", "{box}/run"),
        2,
        "holds model 'xnor_mlp'",
    ),
    "build-checkpoint-missing": ("build", board("--checkpoint", "{box}/nope.pt"), 2, "checkpoint not found"),
    "build-checkpoint-folder-without": (
        "build",
        board("--checkpoint", "{box}/notbuild"),
        2,
        "folder without checkpoint.pt",
    ),
    "build-checkpoint-not-torch": ("build", board("--checkpoint", "{box}/afile.txt"), 2, "not a readable torch file"),
    "build-checkpoint-no-kwargs": ("build", board("--checkpoint", "{box}/no_kwargs.pt"), 2, "field 'kwargs'"),
    "build-onnx-int64-input": ("build", board("--onnx", "{box}/onnx/int64.onnx"), 2, "is INT64"),
    "build-onnx-fp16-input": ("build", board("--onnx", "{box}/onnx/fp16.onnx"), 2, "is FLOAT16"),
    "build-onnx-dynamic-batch": ("build", board("--onnx", "{box}/onnx/dynbatch.onnx"), 2, "static shape"),
    "build-onnx-nan-weight": (
        "build",
        board("--onnx", "{box}/onnx/nan_weight.onnx", "--output", "{box}/o"),
        2,
        "tensor W holds 1 NaN/inf value(s)",
    ),
    "build-onnx-garbage": ("build", board("--onnx", "{box}/onnx/garbage.onnx"), 2, "not a valid ONNX model"),
    "build-onnx-with-shift": ("build", board("--onnx", "{box}/onnx/int64.onnx", "--shift", "1"), 2, "--shift applies"),
    "build-folding-pe-true": ("build", board("--folding", "{box}/fold/pe_true.json"), 2, "positive integer, got True"),
    "build-folding-bad-defaults": ("build", board("--folding", "{box}/fold/bad_defaults.json"), 2, "Defaults.PE"),
    "build-folding-nan": ("build", board("--folding", "{box}/fold/nan.json"), 2, "not readable JSON"),
    "build-folding-not-object": ("build", board("--folding", "{box}/fold/list.json"), 2, "must be an object"),
    "build-folding-missing": ("build", board("--folding", "{box}/fold/nope.json"), 2, "folding JSON not found"),
    "build-output-cwd": ("build", board("--output", "."), 2, "current directory"),
    "build-output-cwd-forced": ("build", board("--output", ".", "--force"), 2, "current directory"),
    "build-output-parent-of-cwd": ("build", board("--output", ".."), 2, "current directory or a folder above"),
    "build-output-holds-checkpoint": (
        "build",
        board("--checkpoint", "{box}/run", "--output", "{box}/run", "--force"),
        2,
        "holds the input",
    ),
    "build-output-parent-of-input": (
        "build",
        board("--checkpoint", "{box}/outer/inner", "--output", "{box}/outer", "--force"),
        2,
        "holds the input",
    ),
    "build-output-repository": ("build", board("--output", str(ROOT), "--force"), 2, "would replace the git work tree"),
    "build-output-symlink": ("build", board("--output", "{box}/link", "--force"), 2, "symbolic link"),
    "build-output-file": ("build", board("--output", "{box}/afile.txt", "--force"), 2, "existing file"),
    "build-output-not-a-build": ("build", board("--output", "{box}/notbuild"), 2, "--force to replace it"),
    "build-nan-weights": ("build", board("--checkpoint", "{box}/nan_weight.pt", "--output", "{box}/o"), 2, "NaN/inf"),
    "build-negative-bn-variance": (
        "build",
        board("--checkpoint", "{box}/neg_var.pt", "--output", "{box}/o"),
        2,
        "variance",
    ),
    "build-zero-bn-weight": (
        "build",
        board("--checkpoint", "{box}/zero_gamma.pt", "--output", "{box}/o"),
        2,
        "has weight 0 in channel 0",
    ),
    **ROUND2_BUILD,
    # flow/train.py
    "train-epochs-zero": (
        "train",
        ["--model", "xnor_mlp", "--epochs", "0", "--output", "{box}/t"],
        2,
        "0 only with --init-from",
    ),
    "train-epochs-negative": (
        "train",
        ["--model", "xnor_mlp", "--epochs", "-1", "--output", "{box}/t"],
        2,
        ">= 0, got -1",
    ),
    "train-batch-zero": ("train", ["--model", "xnor_mlp", "--batch-size", "0", "--output", "{box}/t"], 2, ">= 1"),
    "train-threads-negative": (
        "train",
        ["--model", "xnor_mlp", "--threads", "-1", "--output", "{box}/t"],
        2,
        "between 1 and 1024",
    ),
    "train-device-tpu": ("train", ["--model", "xnor_mlp", "--device", "tpu", "--output", "{box}/t"], 2, "cuda:N"),
    "train-train-limit-zero": (
        "train",
        ["--model", "xnor_mlp", "--train-limit", "0", "--output", "{box}/t"],
        2,
        ">= 1",
    ),
    "train-width-negative": ("train", ["--model", "xnor_cnv", "--width", "-1", "--output", "{box}/t"], 2, "> 0"),
    "train-augment-pad-negative": (
        "train",
        ["--model", "xnor_cnv", "--augment-pad", "-3", "--output", "{box}/t"],
        2,
        "between 0 and 64",
    ),
    "train-lr-nan": ("train", ["--model", "xnor_mlp", "--lr", "nan", "--output", "{box}/t"], 2, "finite"),
    "train-shift-inf": ("train", ["--model", "xnor_mlp", "--shift", "0,inf,0", "--output", "{box}/t"], 2, "finite"),
    "train-hidden-zero": ("train", ["--model", "xnor_mlp", "--hidden", "16,0", "--output", "{box}/t"], 2, "positive"),
    "train-model-kwargs-unknown": (
        "train",
        ["--model", "xnor_mlp", "--model-kwargs", '{"foo": 1}', "--output", "{box}/t"],
        2,
        "'foo'",
    ),
    "train-model-kwargs-bad-json": (
        "train",
        ["--model", "xnor_mlp", "--model-kwargs", "{", "--output", "{box}/t"],
        2,
        "not readable JSON",
    ),
    "train-average-last-too-many": (
        "train",
        ["--model", "xnor_mlp", "--epochs", "2", "--average-last", "5", "--output", "{box}/t"],
        2,
        "--epochs 2",
    ),
    "train-init-from-missing": (
        "train",
        ["--model", "xnor_mlp", "--init-from", "{box}/nope.pt", "--output", "{box}/t"],
        2,
        "not found",
    ),
    "train-over-finished-run": ("train", ["--model", "xnor_mlp", *TINY, "--output", "{box}/run"], 2, "--resume"),
    "train-resume-without-resume-file": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--resume", "--output", "{box}/run"],
        2,
        "nothing to resume",
    ),
    "train-output-is-file": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--output", "{box}/afile.txt"],
        2,
        "existing file",
    ),
    "train-truncated-resume": (
        "train",
        ["--model", "xnor_mlp", *TINY, "--resume", "--output", "{box}/truncated"],
        2,
        "resume.pt is not readable",
    ),
    "train-cifar-malicious-pickle": (
        "train",
        ["--model", "xnor_cnv", "--dataset", "cifar10", "--data-dir", "{box}/cifar", "--output", "{box}/t"],
        2,
        "global posix.system is not part of the CIFAR-10 format",
    ),
    "train-mnist-missing": (
        "train",
        ["--model", "xnor_mlp", "--dataset", "mnist", "--data-dir", "{box}/notbuild", "--output", "{box}/t"],
        2,
        "not found",
    ),
    # flow/sweep.py
    "sweep-jobs-zero": ("sweep", ["--model", "xnor_mlp", "--jobs", "0", "--output", "{box}/s"], 2, "between 1 and 256"),
    "sweep-seed-negative": (
        "sweep",
        ["--model", "xnor_mlp", "--seeds", "-1", "--output", "{box}/s"],
        2,
        "between 0 and",
    ),
    "sweep-shift-nan": ("sweep", ["--model", "xnor_mlp", "--shifts", "0", "nan", "--output", "{box}/s"], 2, "finite"),
    "sweep-epochs-zero": ("sweep", ["--model", "xnor_mlp", "--epochs", "0", "--output", "{box}/s"], 2, ">= 1"),
    "sweep-device-tpu": ("sweep", ["--model", "xnor_mlp", "--device", "tpu", "--output", "{box}/s"], 2, "cuda:N"),
    "sweep-model-kwargs-unknown": (
        "sweep",
        ["--model", "xnor_mlp", "--model-kwargs", '{"foo": 1}', "--output", "{box}/s"],
        2,
        "'foo'",
    ),
    "sweep-other-config-in-folder": (
        "sweep",
        [
            "--model",
            "xnor_mlp",
            "--dataset",
            "digits",
            "--shifts",
            "0",
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--output",
            "{box}/sweep",
        ],
        2,
        "trained with other settings (epochs 99 -> 1)",
    ),
    "sweep-output-is-file": ("sweep", ["--model", "xnor_mlp", "--output", "{box}/afile.txt"], 2, "existing file"),
    **ROUND2_TRAIN_SWEEP,
    # flow/throughput.py
    "throughput-threads-zero": ("throughput", ["--threads", "0", "--output", "{box}/tp.json"], 2, "between 1 and"),
    "throughput-steps-zero": ("throughput", ["--steps", "0", "--output", "{box}/tp.json"], 2, "between 1 and"),
    "throughput-unknown-case": ("throughput", ["--only", "nope", "--output", "{box}/tp.json"], 2, "no case 'nope'"),
    "throughput-device-tpu": ("throughput", ["--device", "tpu", "--output", "{box}/tp.json"], 2, "cuda:N"),
    "throughput-output-folder": ("throughput", ["--output", "{box}/notbuild"], 2, "is a folder"),
    # flow/experiments/results_summary.py
    "results-missing-root": ("results_summary", ["{box}/nope"], 2, "results folder not found"),
    "results-broken-json": ("results_summary", ["{box}/results"], 2, "is not readable JSON"),
    "results-metrics-missing-fields": ("results_summary", ["{box}/results_metrics"], 2, "lacks what the tables need"),
    "results-docs-without-block": (
        "results_summary",
        ["{box}/results_ok", "--docs", "{box}/doc_without_block.md"],
        2,
        "results:begin",
    ),
    "results-docs-missing": ("results_summary", ["{box}/results_ok", "--docs", "{box}/nope.md"], 2, "not found"),
    # flow/vivado/build_bitstream.py
    "bitstream-missing-folder": ("build_bitstream", ["{box}/nope", "--board", "Pynq-Z2"], 2, "build folder not found"),
    "bitstream-unknown-board": ("build_bitstream", ["{box}/notbuild", "--board", "Arty"], 2, "unknown board"),
    "bitstream-no-rtl": ("build_bitstream", ["{box}/notbuild", "--board", "Pynq-Z2", "--tcl-only"], 2, "not found"),
    "bitstream-timeout-zero": ("build_bitstream", ["{box}/notbuild", "--board", "Pynq-Z2", "--timeout", "0"], 2, "> 0"),
    **ROUND2_OTHERS,
}


# driver fault -> fragment of its error line (tests/test_red_team_faults.py prepares each fault)
DRIVER_CASES = {
    "limit-zero": "positive integer",
    "batch-zero": "positive integer",
    "timeout-nan": "positive number of seconds",
    "backend-unknown": "invalid choice",
    "object-npy": "not a numeric .npy array",
    "garbage-npy": "not a numeric .npy array",
    "short-labels": "1 labels for 3 images",
    "corrupt-top-json": "top.json is not readable JSON",
    "top-json-wrong-shape": "does not fit the output beats",
    "corrupt-deploy-json": "deploy.json is not readable JSON",
    "sim-not-executable": "is not executable",
    "sim-never-exits": "simulator timed out after 2 s",
    # issue 28
    "deep-top-json": "nested more than 64 levels",
    "clock-true": "clock_mhz must be a positive number, got True",
    "width-text": "in_width must be a positive integer, got '8'",
    "datatype-number": "in_datatype must be a datatype name",
    "labels-nan": "labels must be whole numbers",
    "labels-2d": "labels must have shape (N,) or (N, 1)",
    "labels-long": "5 labels for 3 images",
    "labels-negative": "class indices >= 0",
    "output-is-input": "is the input",
    "output-folder": "is a folder",
    "images-fifo": "not a regular file",
}
