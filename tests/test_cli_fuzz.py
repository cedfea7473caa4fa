"""Property-based fuzz of every CLI's options (hypothesis): random argument lists drawn from each tool's
options with hostile values (huge, negative, NaN, text, empty, unicode, JSON of any form, paths into
the red-team sandbox: git trees, .git, FIFOs, links, inputs). The property: exit 0 or 2, never a
traceback or ``error: internal``, exactly one ``error:`` line on 2, and a refused run changed nothing.

The work behind the checks (the build, training, the sweep, the measurement) is replaced by a stub, so
each example costs milliseconds; the driver runs for real against a fake simulator. Time bound:
``MAX_EXAMPLES`` per tool (half for the driver, whose runs start a process)."""

from __future__ import annotations

import importlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from red_team_checks import snapshot
from red_team_inputs import fake_deploy
from red_team_sandbox import DEEP, build_sandbox

MAX_EXAMPLES = 30
SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

NUMBERS = st.one_of(
    st.integers(-3, 300).map(str),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "1e400", "-0", "0x10", "1_000", "nan", "inf", "true", "½"]),
)
TEXT = st.text(max_size=12)
PATHS = st.sampled_from(
    ["", ".", "..", "{box}/new", "{box}/new dir ä", "{box}/notbuild", "{box}/afile.txt", "{box}/link",
     "{box}/repo", "{box}/repo/.git", "{box}/repo/results", "{box}/fifo.json", "{box}/run", "{box}/prev_build",
     "{box}/mnistdir", "{box}/prev_with_data/data", "{box}/" + "x" * 300, "{box}/nope/deeper"]
)  # fmt: skip
JSON = st.one_of(
    st.sampled_from(["{}", "[1]", "{", '{"shift": NaN}', '{"shift_mode": "x"}', '{"width": true}', DEEP,
                     '{"hidden": [100000000]}', '{"in_size": 3}', '{"foo": 1}']),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                 max_leaves=8).map(lambda v: json.dumps(v)),
)  # fmt: skip
MODELS = st.sampled_from(["xnor_mlp", "xnor_cnv", "bireal_cnv", "nope", ""])
FLAG = st.just(None)  # an option without a value

# tool -> (module, {option: strategy of its value}, positional strategies)
TOOLS = {
    "build": ("flow.build", {
        "--board": st.sampled_from(["Pynq-Z2", "ZCU104", "Arty", ""]), "--model": MODELS, "--onnx": PATHS,
        "--checkpoint": st.one_of(PATHS, st.sampled_from(["{box}/run", "{box}/shift_nan.pt", "{box}/records_data.pt"])),
        "--model-kwargs": JSON, "--shift": NUMBERS, "--folding": st.one_of(PATHS, st.just("{box}/fold/deep.json")),
        "--target-fps": st.one_of(NUMBERS, st.just("max")), "--output": PATHS, "--force": FLAG,
        "--verify-images": NUMBERS, "--dataset": st.sampled_from(["digits", "mnist", "svhn"]),
        "--data-dir": PATHS, "--require-bitstream": FLAG, "--skip-rtlsim": FLAG, "--backend": TEXT,
    }, []),
    "train": ("flow.train", {
        "--model": MODELS, "--dataset": st.sampled_from(["digits", "cifar10", "x"]), "--data-dir": PATHS,
        "--image-size": NUMBERS, "--output": PATHS, "--force": FLAG, "--shift": NUMBERS,
        "--shift-mode": TEXT, "--width": NUMBERS, "--hidden": st.one_of(NUMBERS, st.just("16,0"), TEXT),
        "--model-kwargs": JSON, "--epochs": NUMBERS, "--batch-size": NUMBERS, "--lr": NUMBERS,
        "--weight-decay": NUMBERS, "--augment-pad": NUMBERS, "--train-limit": NUMBERS, "--seed": NUMBERS,
        "--threads": NUMBERS, "--workers": NUMBERS, "--device": TEXT, "--resume": FLAG,
        "--average-last": NUMBERS, "--init-from": PATHS,
    }, []),
    "sweep": ("flow.sweep", {
        "--model": MODELS, "--dataset": st.sampled_from(["digits", "x"]), "--data-dir": PATHS,
        "--shifts": NUMBERS, "--seeds": NUMBERS, "--output": PATHS, "--force": FLAG, "--epochs": NUMBERS,
        "--batch-size": NUMBERS, "--lr": NUMBERS, "--threads": NUMBERS, "--jobs": NUMBERS, "--width": NUMBERS,
        "--hidden": st.one_of(NUMBERS, TEXT), "--model-kwargs": JSON, "--train-limit": NUMBERS,
    }, []),
    "throughput": ("flow.throughput", {
        "--threads": NUMBERS, "--steps": NUMBERS, "--output": PATHS, "--device": TEXT,
    }, []),
    "results": ("flow.experiments.results_summary", {"--docs": PATHS}, [PATHS]),
    "persistence": ("flow.experiments.persistence", {"--output": PATHS}, [PATHS]),
    "bitstream": ("flow.vivado.build_bitstream", {
        "--board": st.sampled_from(["Pynq-Z2", "Arty", ""]), "--name": TEXT, "--tcl-only": FLAG,
        "--timeout": NUMBERS,
    }, [st.sampled_from(["{box}/notbuild_rtl", "{box}/bad_top", "{box}/deep_top", "{box}/prev_build", "."])]),
}  # fmt: skip

# The work behind the checks: replaced by stubs (the property is about the checks)
STUBS = {
    "build": ("flow.build", "build_atomically", lambda *a, **k: {}),
    "train": ("flow.train", "train", lambda *a, **k: None),
    "sweep": ("flow.sweep", "sweep", lambda *a, **k: None),
    "throughput": ("flow.throughput", "measure_all", lambda *a, **k: 0),
}


@pytest.fixture(scope="module")
def fuzz_box(tmp_path_factory):
    return build_sandbox(tmp_path_factory.mktemp("fuzz"))


def draw_argv(data, options: dict, positional: list, box) -> list[str]:
    chosen = data.draw(st.lists(st.sampled_from(sorted(options)), max_size=6, unique=True))
    argv = [data.draw(s) for s in positional]
    for option in chosen:
        value = data.draw(options[option])
        argv += [option] if value is None else [option, value]
    if data.draw(st.booleans()):
        argv.append(data.draw(st.sampled_from(["--bogus", "-x", "--", "--output="])))
    return [a.replace("{box}", str(box)) for a in argv]


@pytest.mark.fast
@pytest.mark.timeout(300)
@pytest.mark.parametrize("tool", list(TOOLS))
def test_cli_options_fuzz(tool, fuzz_box, capsys, monkeypatch):
    module, options, positional = TOOLS[tool]
    if tool in STUBS:
        name, attr, stub = STUBS[tool]
        monkeypatch.setattr(importlib.import_module(name), attr, stub)
    main = importlib.import_module(module).main
    monkeypatch.chdir(fuzz_box / "cwd")

    @SETTINGS
    @given(data=st.data())
    def one(data):
        argv = draw_argv(data, options, positional, fuzz_box)
        before = snapshot(fuzz_box)
        code = main(argv)
        err = capsys.readouterr().err
        shown = [a[:80] for a in argv], err[-600:]
        assert code in (0, 2), shown
        assert "Traceback" not in err and "error: internal" not in err, shown
        if code == 2:
            assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1, shown
            assert snapshot(fuzz_box) == before, shown  # refused: nothing created, changed or removed

    one()


DRIVER_OPTIONS = {
    "--backend": st.sampled_from(["auto", "sim", "pynq", "fpga"]),
    "--images": st.one_of(PATHS, st.sampled_from(["{deploy}/test_images.npy", "{deploy}/top.json"])),
    "--labels": st.one_of(PATHS, st.sampled_from(["{deploy}/test_labels.npy", "{deploy}/test_images.npy"])),
    "--limit": NUMBERS,
    "--batch": NUMBERS,
    "--output": st.one_of(PATHS, st.sampled_from(["{deploy}/test_images.npy", "{deploy}", "{box}/out.npy"])),
    "--sim-timeout": NUMBERS,
    "--json": FLAG,
    "--rtl-dir": PATHS,
}


@pytest.mark.fast
@pytest.mark.timeout(300)
def test_driver_options_fuzz(fuzz_box, tmp_path, capsys):
    """The board driver (numpy only, its own copy of the contract) against a fake simulator."""
    from flow.deploy import driver

    deploy = fake_deploy(tmp_path)

    @settings(SETTINGS, max_examples=MAX_EXAMPLES // 2)
    @given(data=st.data())
    def one(data):
        argv = draw_argv(data, DRIVER_OPTIONS, [], fuzz_box)
        argv = ["--deploy", str(deploy), "--no-throughput", *(a.replace("{deploy}", str(deploy)) for a in argv)]
        before = snapshot(tmp_path)
        code = driver.main(argv)
        err = capsys.readouterr().err
        shown = [a[:80] for a in argv], err[-600:]
        assert code in (0, 2) and "Traceback" not in err and "error: internal" not in err, shown
        if code == 2:
            assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1, shown
            assert snapshot(tmp_path) == before, shown

    one()
