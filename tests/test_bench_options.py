"""The benchmarks' options are checked before any build starts (flow/core/cli.py, the tools' contract):
bad input is exit status 2 and one ``error:`` line naming the option, and the work behind the check
(replaced here by a stub that records a call) is never reached."""

from __future__ import annotations

import importlib

import pytest

pytestmark = pytest.mark.fast

# script -> the function that does the work once the options are checked
WORK = {
    "bench.resnet_hw": "run",
    "bench.compile_time": "run",
    "bench.bireal_vs_xnor": "run",
    "bench.fuzz_networks": "fuzz",
    "bench.sim_speed": "measure",
    "bench.synth_mvau": "synthesize",
    "bench.synth_timing": "time_blocks",
}
NOT_POSITIVE = ("0", "-5", "nan", "inf", "abc", "")
CASES = [
    *(("bench.resnet_hw", ["--clock-mhz", v], "--clock-mhz") for v in NOT_POSITIVE),
    ("bench.resnet_hw", ["--clock-mhz", "400"], "--clock-mhz must lie between 1 and 333"),  # ZCU104's PS limit
    ("bench.resnet_hw", ["--board", "Pynq-Z2", "--clock-mhz", "300"], "--clock-mhz must lie between 1 and 250"),
    ("bench.resnet_hw", ["--board", "Arty"], "unknown board 'Arty'"),
    *(("bench.resnet_hw", ["--target-fps", v], "--target-fps") for v in NOT_POSITIVE),
    *(("bench.resnet_hw", ["--timeout", v], "--timeout") for v in NOT_POSITIVE),
    ("bench.resnet_hw", ["--verify-images", "0"], "--verify-images"),
    ("bench.resnet_hw", ["--model-args", "{"], "--model-args"),
    ("bench.resnet_hw", ["--model-args", "[1]"], "--model-args"),
    *(("bench.compile_time", ["--target-fps", v], "--target-fps") for v in NOT_POSITIVE),
    ("bench.compile_time", ["--board", "Arty"], "unknown board 'Arty'"),
    ("bench.compile_time", ["--model-args", "{"], "--model-args"),
    *(("bench.compile_time", ["--clock-mhz", v], "--clock-mhz") for v in NOT_POSITIVE),
    ("bench.compile_time", ["--clock-mhz", "400"], "--clock-mhz must lie between 1 and 333"),  # ZCU104's PS limit
    *(("bench.compile_time", ["--seed", v], "--seed") for v in ("-1", "x")),
    *(("bench.bireal_vs_xnor", ["--table-only", "--target-fps", v], "--target-fps") for v in NOT_POSITIVE),
    ("bench.bireal_vs_xnor", ["--table-only", "--verify-images", "-1"], "--verify-images"),
    *(("bench.fuzz_networks", [option, "-1"], option) for option in ("--n", "--images", "--jobs")),
    ("bench.fuzz_networks", ["--seed", "x"], "--seed"),
    ("bench.fuzz_networks", ["--images", "0"], "--images"),
    *(("bench.sim_speed", [option, "0"], option) for option in ("--mw", "--mh", "--pe", "--simd", "--cycles")),
    ("bench.sim_speed", ["--images", "-3"], "--images"),
    ("bench.synth_mvau", ["--jobs", "0"], "--jobs"),
    ("bench.synth_mvau", ["--points", "0x0x0x0"], "must be >= 1"),  # was a ZeroDivisionError traceback
    ("bench.synth_mvau", ["--points", "64x8x3x8"], "PE must divide MH"),
    ("bench.synth_timing", ["--jobs", "1000"], "--jobs"),
]  # fmt: skip


@pytest.mark.parametrize(("script", "argv", "says"), CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_option_is_one_error_line_before_any_work(script, argv, says, capsys, monkeypatch):
    module = importlib.import_module(script)
    called = []
    monkeypatch.setattr(module, WORK[script], lambda *a, **k: called.append(a) or 0)
    code = module.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and says in err[0], (code, err)
    assert not called
