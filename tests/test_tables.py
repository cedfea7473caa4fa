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
