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


MIXED_MEMORIES = """module mixed(input logic clk, input logic we, input logic [9:0] wa, ra, input logic [35:0] d,
                  input logic [5:0] la, input logic [7:0] x, y, output logic [35:0] q, output logic [7:0] lq,
                  output logic [15:0] p);
  logic [35:0] bram [1024];
  logic [7:0] lutram [64];
  always_ff @(posedge clk) begin
    if (we) bram[wa] <= d;
    q <= bram[ra];
    if (we) lutram[wa[5:0]] <= d[7:0];
    p <= x * y;
  end
  assign lq = lutram[la];
endmodule
"""


def test_ultrascale_memory_mapping_is_synth_xilinxs_own_where_yosys_maps_it(tmp_path, monkeypatch):
    """The worker's replacement of synth_xilinx's map_memory (XCU_MAP_MEMORY) gives the same cells as
    synth_xilinx itself on a design yosys 0.70 maps unaided (block RAM, LUT RAM, a DSP)."""
    import flow.rtl_backend.synth as synth

    src = tmp_path / "mixed.sv"
    src.write_text(MIXED_MEMORIES)
    ours = synth.synth_module("mixed", [src], tmp_path / "ours", family="xcup")
    monkeypatch.setattr(synth, "map_memory_commands", lambda family: [])
    theirs = synth.synth_module("mixed", [src], tmp_path / "theirs", family="xcup")
    assert ours["cells"] == theirs["cells"] and ours["bram36"] > 0 and ours["lut_memory"] > 0


def test_a_deep_single_port_lut_ram_maps_on_ultrascale(tmp_path):
    """yosys 0.70 offers RAM512X1S as "abits 16" and then rejects it: the corrected library maps it."""
    from flow.rtl_backend.synth import synth_module

    src = tmp_path / "sp512.sv"
    src.write_text("module sp512(input logic clk, input logic we, input logic [8:0] a, input logic d,\n"
                   "             output logic q);\n  logic mem [512];\n"
                   "  always_ff @(posedge clk) if (we) mem[a] <= d;\n  assign q = mem[a];\nendmodule\n")  # fmt: skip
    r = synth_module("sp512", [src], tmp_path / "work", family="xcup")
    assert r["cells"].get("RAM512X1S") == 1 and r["lut_memory"] == 8
