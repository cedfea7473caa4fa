"""Red-team cases of flow/build.py (the table is assembled in tests/red_team_cases.py): bad numbers,
models, checkpoints, ONNX files, folding JSON and output folders. Each case: (tool, argv with {box}
for the sandbox of tests/red_team_sandbox.py, expected exit, fragment of the error line)."""

from __future__ import annotations

from red_team_checks import ROOT


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

BUILD_CASES = {
    "build-shift-nan": ("build", board("--shift", "nan"), 2, "finite number"),
    "build-shift-minus-inf": ("build", board("--shift=-inf"), 2, "finite number"),
    "build-shift-inf": ("build", board("--shift", "inf"), 2, "finite number"),
    "build-shift-text": ("build", board("--shift", "abc"), 2, "want a number"),
    "build-fps-tiny": ("build", board("--target-fps", "1e-9"), 2, "--target-fps must lie between 1"),
    "build-fps-inf": ("build", board("--target-fps", "inf"), 2, "finite number"),
    "build-fps-above-clock": ("build", board("--target-fps", "1e9"), 2, "one image per cycle"),
    "build-fps-text": ("build", board("--target-fps", "fast"), 2, "want a number"),
    "build-clock-zero": ("build", board("--clock-mhz", "0"), 2, "want a number > 0"),
    "build-clock-nan": ("build", board("--clock-mhz", "nan"), 2, "finite number"),
    "build-clock-too-fast": ("build", board("--clock-mhz", "400"), 2, "between 1 and 250 MHz on the Pynq-Z2"),
    "build-fps-above-set-clock": ("build", board("--clock-mhz", "50", "--target-fps", "6e7"), 2, "at 50 MHz"),
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
}
