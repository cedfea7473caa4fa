"""One tiny yosys point of the synthesis benchmark (the full table: python bench/synth_mvau.py)."""

import pytest

pytestmark = pytest.mark.slow


def test_mvau_synth_smoke(tmp_path):
    from bench.synth_mvau import finn_estimates, synth_point

    r = synth_point(64, 16, 4, 16, tmp_path)
    r.update(finn_estimates(64, 16, 4, 16))
    assert r["lut"] > 0 and r["ff"] > 0
    assert r["lut"] + r["lutram_luts"] < r["finn_lut_est"], r
    # the one yosys runner reports the critical path of the kept hierarchy, flattened
    assert 1 <= r["depth"]["critical_path_lut_levels"] <= r["depth"]["max_lut_levels"]


def test_synth_again_in_the_same_folder(tmp_path):
    """A benchmark re-run writes into the folder of its last run: its stat.json is not an input again."""
    from flow.rtl_backend.synth import synth_module

    src = tmp_path / "tiny.sv"
    src.write_text("module tiny(input logic clk, input logic [5:0] a, output logic y);\n"
                   "  always_ff @(posedge clk) y <= ^a;\nendmodule\n")  # fmt: skip
    first = synth_module("tiny", [src], tmp_path / "work")
    again = synth_module("tiny", [src], tmp_path / "work")
    assert first["lut"] == again["lut"] == 1 and again["ff"] == 1
