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


def test_the_critical_path_runs_through_kept_modules(tmp_path):
    """A keep_hierarchy module (bnn_popcount's lanes) is synthesized on its own but timed inlined: the
    path register -> its logic -> register is seen (it once counted as no logic at all)."""
    from flow.rtl_backend.synth import synth_module

    src = tmp_path / "kept.sv"
    src.write_text("(* keep_hierarchy *) module sub(input logic [35:0] a, output logic y);\n  assign y = ^a;\n"
                   "endmodule\nmodule top(input logic clk, input logic [35:0] d, output logic q);\n"
                   "  logic [35:0] a;\n  logic y;\n  always_ff @(posedge clk) begin a <= d; q <= y; end\n"
                   "  sub u (.a(a), .y(y));\nendmodule\n")  # fmt: skip
    r = synth_module("top", [src], tmp_path / "work", depth=True)
    assert r["depth"]["critical_path_lut_levels"] >= 2  # 36 inputs: at least two levels of LUT6


def test_a_generate_loop_longer_than_slangs_default_step_limit_elaborates(tmp_path):
    """slang's default limit (131,072 generate steps) stopped the full-size ResNet-18's synthesis."""
    from flow.rtl_backend.synth import synth_module

    src = tmp_path / "long_loop.sv"
    src.write_text("module long_loop(input logic a, output logic y);\n"
                   "  for (genvar i = 0; i < 140000; i++) begin : gen_step\n  end\n"
                   "  assign y = a;\nendmodule\n")  # fmt: skip
    assert synth_module("long_loop", [src], tmp_path / "work")["lut"] == 0
