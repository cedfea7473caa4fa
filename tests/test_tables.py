"""bench/tables.py: every README/docs table that quotes a measurement is what its committed JSON renders to,
with stale marks where the code changed after the measurement (flow/experiments/result_status.py)."""

import json

import pytest

from bench import tables
from flow.core import provenance
from flow.experiments import result_status as status

pytestmark = pytest.mark.fast


def test_every_committed_table_is_its_json_rendered_now():
    if provenance.last_change(("hw/rtl",)) is None:
        pytest.skip("no git history: the stale marks cannot be computed")
    stale = tables.differences([*tables.BLOCKS, *tables.WHOLE_FILES])
    assert stale == [], f"tables differ from their JSON (regenerate: python bench/tables.py): {stale}"


def test_splice_replaces_only_its_block():
    text = "a\n<!-- t:begin -->\nold\n<!-- t:end -->\nb <!-- u:begin -->\nkeep\n<!-- u:end -->\n"
    new = tables.splice(text, "t", "new $1 \\g<0>\n")  # regex-special text goes in literally
    assert tables.committed_block(new, "t") == "new $1 \\g<0>\n"
    assert tables.committed_block(new, "u") == "keep\n" and new.startswith("a\n")
    with pytest.raises(ValueError, match="no <!-- v:begin -->"):
        tables.splice(text, "v", "x\n")


def test_check_exits_1_naming_the_table(monkeypatch, capsys):
    monkeypatch.setitem(tables.BLOCKS, "readme-shift", tables.Block("README.md", lambda: "edited by hand\n"))
    assert tables.main(["--check", "readme-shift"]) == 1
    assert "README.md: readme-shift: differs from its JSON" in capsys.readouterr().out
    assert tables.main(["no-such-table"]) == 2


def test_a_result_made_at_a_commit_is_stale_once_its_code_changes(monkeypatch):
    changes = {"abc1234": [], "def5678": ["hw/rtl/bnn_mvau.sv"]}
    monkeypatch.setattr(status, "changed_since", lambda commit, paths: changes.get(commit))
    assert status.stale_reason(status.HARDWARE_CODE, {"commit": "abc1234"}) is None
    reason = status.stale_reason(status.HARDWARE_CODE, {"commit": "def5678"})
    assert reason == "hw/rtl or its emitters changed since def5678"
    assert "this history lacks" in status.stale_reason(status.HARDWARE_CODE, {"commit": "0000000"})
    dirty = {"commit": "abc1234", "dirty_files": ["hw/rtl/x.sv", "README.md"]}
    assert status.stale_reason(status.HARDWARE_CODE, dirty) == "made with uncommitted changes to hw/rtl/x.sv"


def test_a_result_with_only_a_date_is_stale_after_a_newer_change(monkeypatch):
    last = {"commit": "7cd61e0aaaa", "epoch": status.parse_date("2026-12-01 14:45 UTC"), "date": "2026-12-01 14:45 UTC"}
    monkeypatch.setattr(
        status, "last_change", lambda paths, after=None: None if (after or 0) >= last["epoch"] else last
    )
    assert status.stale_reason(status.HARDWARE_CODE, date="2026-12-01 15:15 UTC") is None
    reason = status.stale_reason(status.HARDWARE_CODE, date="2026-11-25 21:07 UTC")
    assert reason == "measured 2026-11-25 21:07 UTC, before 7cd61e0 (2026-12-01) changed hw/rtl or its emitters"
    assert status.stale_reason(status.HARDWARE_CODE, date="yesterday").startswith("no commit recorded")


def test_a_drifted_reproduction_marks_the_result_stale(tmp_path):
    report = {
        "verdicts": {"drifted": 1, "bit-identical": 1}, "runs_rerun": 2, "runs_in_folder": 6, "commit": "0b36a84",
        "date": "2026-12-06 06:00:00 UTC",
        "reruns": [{"status": "drifted", "test_accuracy_pp": -4.26, "run": "runs/t0_shift_seed13"},
                   {"status": "bit-identical", "run": "runs/t0.8_shift_seed13"}],
    }  # fmt: skip
    (tmp_path / "reproduce.json").write_text(json.dumps(report))
    st = status.training_status(tmp_path, {"date": "2026-12-01 12:47:07 UTC"})
    assert st["stale"] == "1 of 2 re-run runs drifted at 0b36a84 (largest -4.26 pp, t0_shift_seed13)"
    assert status.mark(st).startswith("re-run 2026-12-06; **stale**: 1 of 2")


def test_resnet_accuracy_rows_are_paired_by_seed_with_the_hardware_form(monkeypatch):
    from bench import resnet_hw

    accs = {"hw": {0: 80.0, 1: 82.0, 2: 81.0}, "binstem": {0: 78.0, 1: 81.0, 2: 79.0}}
    monkeypatch.setattr(resnet_hw, "ACC_RUNS", (("int8", "hw"), ("binary", "binstem"), ("other", "none")))
    monkeypatch.setattr(resnet_hw, "run_accuracies", lambda folder: accs.get(folder, {}))
    rows = resnet_hw.accuracy_table().splitlines()
    assert rows[2].endswith("| 81.00 +- 1.00 | +0.00 +- 0.00 |")
    # differences 2, 1, 2: mean 1.67, sample std sqrt((1/9 + 4/9 + 1/9) / 2) = 0.58
    assert rows[3] == "| binary (`results/binstem`) | 78.00 / 81.00 / 79.00 | 79.33 +- 1.53 | +1.67 +- 0.58 |"
    assert rows[4] == "| other | not run | - | - |"
    del accs["hw"]  # without the hardware form there is nothing to pair with: no row takes its place
    assert resnet_hw.accuracy_table().splitlines()[3].endswith("| 79.33 +- 1.53 | - |")


def test_stem_table_lists_the_modelled_design_of_each_folded_run():
    from bench import compile_time

    fold = {"clock_mhz": 200.0, "fps": 2277.6, "cycles_per_frame": 87808, "bottleneck": "MVAU_hls_0",
            "reached": True, "limit": None, "lut": 120269, "bram36": 243.0, "uram": 82, "dsp": 1352,
            "fits": True, "stem": {"node": "MVAU_hls_0", "PE": 64, "SIMD": 21}}  # fmt: skip
    runs = [{"model": "m", "model_args": None, "target_fps": 2000.0, "fold": fold},
            {"model": "m", "model_args": '{"stem_bits": 1}', "target_fps": "max",
             "fold": {**fold, "fits": False, "stem": None}},
            {"model": "m", "model_args": None, "target_fps": 1000.0}]  # fmt: skip
    rows = compile_time.fold_table(runs).splitlines()
    assert len(rows) == 4  # header, rule and the two runs with a fold
    assert rows[2] == ("| m | full size (int8 stem) | 2000 @ 200 MHz | 2,278 (87,808) | 120,269 | 243 | 82 | 1,352 "
                       "| yes | MVAU_hls_0 | 64 x 21 (MVAU_hls_0) |")  # fmt: skip
    assert rows[3].startswith('| m | {"stem_bits": 1} | max @ 200 MHz |') and rows[3].endswith(
        "| no | MVAU_hls_0 | - |"
    )
    assert compile_time.setting({"model_args": None, "target_fps": 1000.0}) == "full size"
    assert compile_time.setting({"model_args": None, "target_fps": "max", "clock_mhz": 200.0}) == (
        "full size, --target-fps max @ 200 MHz"
    )
