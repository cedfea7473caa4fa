"""flow/core/provenance.py: the commit, dirty flag, versions and command recorded with every result."""

import subprocess

import pytest

from flow.core import provenance as prov
from flow.core.files import REPO

pytestmark = pytest.mark.fast


def test_records_the_checked_out_commit_and_versions():
    p = prov.provenance(["flow/sweep.py", "--model", "xnor_mlp", "--model-kwargs", '{"a": 1}'])
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    assert p["commit"] == head.stdout.strip()
    assert isinstance(p["dirty"], bool)
    assert p["versions"]["torch"].startswith("2.")
    assert p["versions"]["brevitas"] and p["versions"]["finn-plus"] and p["versions"]["qonnx"]
    assert p["command"] == "python flow/sweep.py --model xnor_mlp --model-kwargs '{\"a\": 1}'"
    assert p["argv"][0] == "flow/sweep.py"
    assert prov.short(p).startswith(p["commit"][:7])


def test_absolute_script_path_inside_the_repository_is_made_relative():
    p = prov.provenance([str(REPO / "bench" / "rtl_backend.py"), "--quick"])
    assert p["argv"] == ["bench/rtl_backend.py", "--quick"]


def test_without_git_the_commit_is_none_with_the_reason(monkeypatch):
    def no_git(*args):
        raise FileNotFoundError("git not found")

    monkeypatch.setattr(prov, "_git", no_git)
    p = prov.provenance(["x"])
    assert p["commit"] is None and p["dirty"] is None and "git not found" in p["git_error"]
    assert prov.short(p) == "unrecorded"


def test_dirty_lists_changed_code_only(monkeypatch):
    answers = {"rev-parse": "abc1234def\n", "status": " M flow/train.py\n M README.md\n"}
    monkeypatch.setattr(prov, "_git", lambda *args: answers[args[0]])
    state = prov.git_state()
    assert state == {"commit": "abc1234def", "dirty": True, "dirty_files": ["flow/train.py", "README.md"]}
    assert prov.short({**state, "date": "2026-12-06 05:00:00 UTC"}) == "abc1234 (dirty), 2026-12-06"
