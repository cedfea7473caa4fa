"""Red team, the CLIs: bad input against build, train, sweep, throughput, results_summary and
build_bitstream (the case table is tests/red_team_cases.py), the internal-error line, signals during a
build and the build's user journey. The inputs are checked before any work, so almost every case fails
in milliseconds; the few that need a build are in the ``slow`` tier. docs/safety.md lists the cases."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from red_team_cases import CASES, DRIVER_CASES
from red_team_checks import ROOT, assert_one_error, snapshot
from red_team_inputs import TINY
from red_team_sandbox import build_sandbox

from brevitas_models.checkpoint import read_checkpoint
from flow.core.files import MARKER


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    return build_sandbox(tmp_path_factory.mktemp("redteam"))


def _main(tool: str):
    if tool == "build":
        from flow.build import main
    elif tool == "train":
        from flow.train import main
    elif tool == "sweep":
        from flow.sweep import main
    elif tool == "throughput":
        from flow.throughput import main
    elif tool == "results_summary":
        from flow.experiments.results_summary import main
    elif tool == "persistence":
        from flow.experiments.persistence import main
    else:
        from flow.vivado.build_bitstream import main
    return main


@pytest.mark.fast
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_touches_nothing(case, sandbox, capsys, monkeypatch):
    tool, argv, expected, fragment = CASES[case]
    monkeypatch.chdir(sandbox / "cwd")  # "--output ." is a folder with the user's files
    before = snapshot(sandbox)
    code = _main(tool)([a.replace("{box}", str(sandbox)) for a in argv])
    err = capsys.readouterr().err
    assert_one_error(code, err, expected, fragment)
    assert snapshot(sandbox) == before  # nothing changed, nothing created, nothing removed
    assert not (sandbox / "PWNED").exists()  # the malicious pickle never ran


@pytest.mark.fast
def test_cuda_without_gpu_is_one_line(sandbox, capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: --device cuda is valid here")
    from flow.train import main

    code = main(["--model", "xnor_mlp", "--device", "cuda", "--output", str(sandbox / "t")])
    assert_one_error(code, capsys.readouterr().err, 2, "torch sees no CUDA GPU")


@pytest.mark.fast
def test_internal_error_is_one_line_with_a_log(monkeypatch, capsys):
    """A bug (here: a function that raises) gives ``error: internal`` and the traceback in a log file."""
    import flow.build

    def broken(args):
        raise KeyError("surprise")

    monkeypatch.setattr(flow.build, "make_config", broken)
    code = flow.build.main(["--board", "Pynq-Z2"])
    err = capsys.readouterr().err
    assert_one_error(code, err, 1, "error: internal: KeyError: 'surprise'")
    log = Path(err.split("traceback in ")[1].split(")")[0])
    assert "Traceback" in log.read_text() and "surprise" in log.read_text()
    log.unlink()


@pytest.mark.fast
def test_sweep_deduplicates_shifts_and_seeds(tmp_path, capsys):
    from flow.sweep import main

    argv = ["--model", "xnor_mlp", "--dataset", "digits", "--hidden", "8,8,8", "--epochs", "1", "--threads", "1"]
    argv += ["--shifts", "0", "0.5", "0.5", "--seeds", "0", "0", "--output", str(tmp_path / "s")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "--shifts lists t=0.5 more than once" in err and "--seeds lists 0 more than once" in err
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert [len(g["accuracies"]) for g in results["summary"]] == [1, 1]  # each run counted once


@pytest.mark.fast
def test_train_reuses_a_run_folder_only_when_asked(tmp_path, capsys):
    """A finished run: --force trains over it; --resume with other settings is refused (the fingerprint
    in resume.pt), with the same settings it only evaluates."""
    from flow.train import main

    out = tmp_path / "r"
    argv = ["--model", "xnor_mlp", *TINY, "--batch-size", "256", "--output", str(out)]
    assert main(argv) == 0
    assert main([*argv, "--resume"]) == 0  # nothing left to train: the same run, evaluated
    first = hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest()
    assert main([*argv, "--resume", "--lr", "0.01"]) == 2
    assert "written with other settings (lr 0.002 -> 0.01)" in capsys.readouterr().err
    assert hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest() == first  # refused: untouched
    assert main([*argv, "--force", "--seed", "5"]) == 0  # trained again from scratch
    again = json.loads((out / "metrics.json").read_text())
    assert again["config"]["seed"] == 5 and len(again["history"]) == 1
    assert hashlib.sha256((out / "checkpoint.pt").read_bytes()).hexdigest() != first


@pytest.mark.fast
def test_checkpoint_with_meta_none_loads(sandbox):
    assert read_checkpoint(sandbox / "meta_none.pt")["meta"] == {}


def _signal_build(sandbox: Path, out: Path, signum: int) -> subprocess.CompletedProcess:
    """Start a build, wait until its temporary folder exists, send ``signum``."""

    cmd = [sys.executable, str(ROOT / "flow" / "build.py"), "--board", "Pynq-Z2", "--checkpoint", str(sandbox / "run")]
    cmd += ["--verify-images", "5", "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not list(out.parent.glob(f".{out.name}.partial-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # inside a step
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize(("signame", "code", "word"), [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")])
def test_signal_during_build_removes_the_partial_folder(sandbox, tmp_path, signame, code, word):
    import signal

    out = tmp_path / "o"
    result = _signal_build(sandbox, out, getattr(signal, signame))
    assert_one_error(result.returncode, result.stderr, code, word)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no .partial-*, no output


@pytest.mark.slow
def test_checkpoint_alone_shift_warning_and_replacing_a_build(sandbox, tmp_path, capsys):
    """--checkpoint names its model (a run folder works); --shift on it reports the accuracy change;
    a second build replaces the first (marked) one and says so, keeping a file the user added in
    o.prev; the folder follows the umask."""
    from flow.build import main

    out = tmp_path / "o"
    argv = ["--board", "Pynq-Z2", "--checkpoint", str(sandbox / "run"), "--shift", "0.5", "--verify-images", "12"]
    argv += ["--skip-rtlsim", "--output", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "warning: --shift 0.5 changes a trained network (trained with shift 0.25)" in err
    assert "no labels" in err  # digits' 8x8 images do not fit the 28x28 model: random images, no labels
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["model"] == "xnor_mlp" and summary["shift_override"]["trained_shift"] == 0.25
    assert (out / MARKER).is_file() and out.stat().st_mode & 0o777 == 0o777 & ~_umask()
    (out / "user_note.txt").write_text("inside a previous build")
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (
        f"{out} holds files no build wrote (user_note.txt)" in err and f"kept the previous build in {out}.prev" in err
    )
    assert not (out / "user_note.txt").exists() and (tmp_path / "o.prev" / "user_note.txt").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "o.prev"]
    assert main(argv) == 0  # nothing of the user's inside now: the previous build is simply replaced
    assert f"replaced the previous build in {out}" in capsys.readouterr().err


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.fast
def test_unknown_folding_attribute_is_one_line(sandbox, tmp_path, capsys):
    from flow.build import main

    argv = ["--board", "Pynq-Z2", "--checkpoint", str(sandbox / "run"), "--folding"]
    argv += [str(sandbox / "fold" / "unknown_attr.json"), "--output", str(tmp_path / "o")]
    # refused before any work: the RTL backend reads PE, SIMD and ram_style only (--backend finn-hls, which
    # reads every attribute of its nodes, says "MVAU_hls has no attribute 'PEE'" at the folding step)
    assert_one_error(main(argv), capsys.readouterr().err, 2, "MVAU_hls_0: the rtl backend does not read 'PEE'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.fast
def test_safety_doc_lists_every_case():
    """docs/safety.md's table is the list of cases this module replays: none missing, none invented."""
    doc = (ROOT / "docs" / "safety.md").read_text()
    listed = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    assert listed == set(CASES) | set(DRIVER_CASES)
