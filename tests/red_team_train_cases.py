"""Red-team cases of flow/train.py and flow/sweep.py (the table is assembled in tests/red_team_cases.py):
bad numbers, devices, model arguments, data folders, resume files and output folders. Each case: (tool,
argv with {box} for the sandbox of tests/red_team_sandbox.py, expected exit, fragment of the error line)."""

from __future__ import annotations

from red_team_inputs import TINY

# Issue 28 (second round), by class; the sandbox files are tests/red_team_sandbox.py's.
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

TRAIN_SWEEP_CASES = {
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
}
