"""flow.rtl_backend.timing.logic_depth and synth's hierarchy expansion on hand-made netlists."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flow.rtl_backend.synth import _hier_cells, kept_blocks
from flow.rtl_backend.timing import CARRY_CI_PS, CARRY_PS, LUT_PS, START_PS, format_path, logic_depth, lut_support

pytestmark = pytest.mark.fast


def cell(kind, inputs: dict, outputs: dict) -> dict:
    dirs = {p: "input" for p in inputs} | {p: "output" for p in outputs}
    return {"type": kind, "port_directions": dirs, "connections": {**inputs, **outputs}}


def netlist(cells: dict) -> dict:
    return {"modules": {"top": {"attributes": {"top": "1"}, "cells": cells}}}


def test_ff_lut_lut_ff_and_a_carry_chain():
    # FF a -> LUT -> LUT -> FF (2 levels); FF b -> LUT -> CARRY4 -> CARRY4 (CI) -> FF (1 level, 2 carries)
    cells = {
        "fa": cell("FDRE", {"D": [100]}, {"Q": [1]}),
        "l1": cell("LUT2", {"I0": [1], "I1": [1]}, {"O": [2]}),
        "l2": cell("LUT3", {"I0": [2], "I1": [1], "I2": [1]}, {"O": [3]}),
        "fo": cell("FDRE", {"D": [3]}, {"Q": [4]}),
        "fb": cell("FDRE", {"D": [101]}, {"Q": [10]}),
        "l3": cell("LUT1", {"I0": [10]}, {"O": [11]}),
        "c0": cell("CARRY4", {"S": [11, 11, 11, 11], "CI": ["0"]}, {"CO": [12, 13, 14, 15]}),
        "c1": cell("CARRY4", {"CI": [15], "S": [10, 10, 10, 10]}, {"O": [16, 17, 18, 19]}),
        "fc": cell("FDRE", {"D": [16]}, {"Q": [20]}),
    }
    d = logic_depth(netlist(cells))
    ff = START_PS["FD"]
    carry = ff + LUT_PS + CARRY_PS + CARRY_CI_PS
    assert d["max_lut_levels"] == 2
    assert d["critical_path_ns"] * 1000 == pytest.approx(max(ff + 2 * LUT_PS, carry))
    assert d["critical_path_carry4"] == (2 if carry > ff + 2 * LUT_PS else 0)
    # named by the registers it runs between (their source location when yosys kept one)
    cells["fa"]["attributes"] = {"src": "/x/share/xilinx/ff_map.v:68.1|../rtl/mvau.sv:12.3-12.9|fifo.sv:3.1"}
    cells["fb"]["attributes"] = {"src": "pool.sv:7.1-7.5"}
    d = logic_depth(netlist(cells))
    ends = ("pool.sv:7", "fc") if carry > ff + 2 * LUT_PS else ("mvau.sv:12", "fo")
    assert (d["critical_path_from"], d["critical_path_to"]) == ends


def test_critical_path_report_lists_each_cell_with_its_pin_net_and_arrival():
    # FF q -> LUT a (I1) -> LUT b (I0) -> FF; a shorter branch FF q -> LUT c -> FF must not appear
    cells = {
        "q": cell("FDRE", {"D": [100]}, {"Q": [1]}),
        "a": cell("LUT2", {"I0": ["0"], "I1": [1]}, {"O": [2]}),
        "b": cell("LUT2", {"I0": [2], "I1": [1]}, {"O": [3]}),
        "c": cell("LUT1", {"I0": [1]}, {"O": [4]}),
        "f": cell("FDRE", {"D": [3]}, {"Q": [5]}),
        "g": cell("FDRE", {"D": [4]}, {"Q": [6]}),
    }
    net = netlist(cells)
    net["modules"]["top"]["netnames"] = {"cnt_q": {"bits": [1]}, "sum": {"bits": [2]}, "ge": {"bits": [3]}}
    d = logic_depth(net)
    path = d["critical_path"]
    assert [(s["cell"], s.get("pin"), s["net"]) for s in path] == [
        ("q", None, "cnt_q"),
        ("a", "I1", "sum"),
        ("b", "I0", "ge"),
    ]
    ff = START_PS["FD"]
    assert [s["ns"] * 1000 for s in path] == pytest.approx([ff, ff + LUT_PS, ff + 2 * LUT_PS])
    assert path[-1]["ns"] == d["critical_path_ns"]
    text = format_path(path).splitlines()
    assert len(text) == 4 and "LUT2" in text[2] and "sum" in text[2] and "I1" in text[2]


def test_hierarchy_expands_submodule_counts():
    modules = {
        "top": {"num_cells_by_type": {"LUT6": 2, "lane": 3}},
        "lane": {"num_cells_by_type": {"LUT6": 5, "FDRE": 1, "leaf": 2}},
        "leaf": {"num_cells_by_type": {"LUT2": 1}},
    }
    assert _hier_cells(modules, "top", {}) == {"LUT6": 17, "FDRE": 3, "LUT2": 6}


def test_a_builds_synth_run_is_its_per_block_run_where_it_kept_the_blocks(tmp_path):
    """calibrate_cost / rtl_backend --per-block read a build's --synth stat instead of a second yosys run."""
    assert kept_blocks(tmp_path) is None  # no run
    lane = {"num_cells_by_type": {"LUT6": 5, "FDRE": 1}}
    kept = {"\\shiftbnn_top": {"num_cells_by_type": {"LUT2": 1, "u_mvau": 2}}, "\\u_mvau": lane}
    (tmp_path / "stat.json").write_text(json.dumps({"modules": kept}))
    assert kept_blocks(tmp_path) == {"u_mvau": {"instances": 2, "cells": {"LUT6": 5, "FDRE": 1}}}
    flat = {"\\shiftbnn_top": {"num_cells_by_type": {"LUT6": 11, "FDRE": 2}}}  # a flattened top: no blocks
    (tmp_path / "stat.json").write_text(json.dumps({"modules": flat}))
    assert kept_blocks(tmp_path) is None


def test_slowest_paths_one_row_per_register_named_by_its_net():
    # two 2-bit registers: q (FF -> 2 LUTs) and r (FF -> 1 LUT); rows per register vector, slowest first
    cells = {"f0": cell("FDRE", {"D": [90]}, {"Q": [1]})}
    for i in range(2):
        cells[f"a{i}"] = cell("LUT1", {"I0": [1]}, {"O": [10 + i]})
        cells[f"b{i}"] = cell("LUT1", {"I0": [10 + i]}, {"O": [20 + i]})
        cells[f"q{i}"] = cell("FDRE", {"D": [20 + i]}, {"Q": [30 + i]})
        cells[f"r{i}"] = cell("FDRE", {"D": [10 + i]}, {"Q": [40 + i]})
    net = netlist(cells)
    net["modules"]["top"]["netnames"] = {
        "u_lane.acc_q": {"bits": [30, 31], "hide_name": 0},
        "u_lane.part_q": {"bits": [40, 41], "hide_name": 0},
        "src_q": {"bits": [1], "hide_name": 0},
        "$auto$1": {"bits": [30], "hide_name": 1},
    }
    rows = logic_depth(net)["slowest_paths"]
    ff = START_PS["FD"]
    assert [(r["to"], r["ns"] * 1000, r["lut_levels"]) for r in rows] == [
        ("u_lane.acc_q", pytest.approx(ff + 2 * LUT_PS), 2),
        ("u_lane.part_q", pytest.approx(ff + LUT_PS), 1),
    ]
    assert {r["from"] for r in rows} == {"src_q"}


def lut(kind: str, init: int, inputs: list, out: int, n: int) -> dict:
    """A LUTn cell (yosys JSON: INIT as binary digits, MSB first) on input bits ``inputs`` (I0 first)."""
    c = cell(kind, {f"I{k}": [b] for k, b in enumerate(inputs)}, {"O": [out]})
    c["parameters"] = {"INIT": format(init, f"0{1 << n}b")}
    return c


def add3_init() -> int:
    """bnn_add3's LUT6_2: O5 = maj(I0, I1, I2) (lower half), O6 = I0 ^ I1 ^ I2 ^ I3 (upper half, I5 = 1)."""
    lower = sum((bin(i & 7).count("1") >= 2) << i for i in range(32))
    upper = sum((bin(i & 15).count("1") % 2) << i for i in range(32))
    return lower | upper << 32


def test_an_input_the_lut_ignores_starts_no_path():
    # FF -> 4 LUTs -> x; LUT2 y = f(a, x) with INIT = a (ignores I1): the path into the end FF is 1 LUT
    cells = {"fa": cell("FDRE", {"D": [100]}, {"Q": [1]})}
    prev = 1
    for i in range(4):
        cells[f"l{i}"] = lut("LUT1", 0b10, [prev], 10 + i, 1)
        prev = 10 + i
    cells["f"] = lut("LUT2", 0b1010, [1, prev], 20, 2)  # O = I0
    cells["fo"] = cell("FDRE", {"D": [20]}, {"Q": [21]})
    d = logic_depth(netlist(cells))
    assert d["slowest_paths"][0]["lut_levels"] == 1 and d["slowest_paths"][0]["to"] == "fo"
    assert d["max_lut_levels"] == 4  # the chain itself (l3's output)
    # the same cell depending on I1 (INIT = I0 & I1) does extend it
    cells["f"] = lut("LUT2", 0b1000, [1, prev], 20, 2)
    assert logic_depth(netlist(cells))["slowest_paths"][0]["lut_levels"] == 5


def test_a_constant_input_masks_the_others():
    # O = I0 & I1 with I1 tied to 0: a constant, depends on nothing; tied to 1: on I0
    assert lut_support(0b1000, 2, {1: 0}) == set()
    assert lut_support(0b1000, 2, {1: 1}) == {0}
    assert lut_support(add3_init(), 6, {5: 1}) == {0, 1, 2, 3}
    assert lut_support(add3_init() & 0xFFFFFFFF, 5, {}) == {0, 1, 2}


def test_ternary_adder_majority_does_not_ripple():
    # bnn_add3 on 8 bits: LUT k's O5 (majority of a, b, c at k) feeds LUT k+1's I3; O6 drives the chain.
    # The majority ignores I3, so the slowest path is FF -> LUT k (O5) -> LUT k+1 (O6) -> the carry chain,
    # two LUT levels whatever the width, not one per bit.
    width, cells = 8, {}
    for k in range(width):
        cells[f"r{k}"] = cell("FDRE", {"D": [1000 + k]}, {"Q": [100 + k]})
        m_below = "0" if k == 0 else 200 + k - 1
        c = cell("LUT6_2", {"I0": [100 + k], "I1": [100 + k], "I2": [100 + k], "I3": [m_below], "I4": ["0"],
                            "I5": ["1"]}, {"O5": [200 + k], "O6": [300 + k]})  # fmt: skip
        c["parameters"] = {"INIT": format(add3_init(), "064b")}
        cells[f"l{k}"] = c
    for q in range(2):
        ci = ["0"] if q == 0 else [403]
        pos = [4 * q + j for j in range(4)]
        s, di = [300 + k for k in pos], ["0" if k == 0 else 200 + k - 1 for k in pos]  # DI = the majority below
        outs = {"O": [500 + k for k in pos], "CO": [400 + k for k in pos]}
        cells[f"c{q}"] = cell("CARRY4", {"CI": ci, "DI": di, "S": s}, outs)
    for k in range(width):
        cells[f"y{k}"] = cell("FDRE", {"D": [500 + k]}, {"Q": [600 + k]})
    d = logic_depth(netlist(cells))
    assert d["max_lut_levels"] == 2 and d["critical_path_lut_levels"] == 2
    # y[7]: FF -> LUT 2 (O5) -> LUT 3 (O6) -> CARRY4 (S -> CO3) -> CARRY4 (CI -> O3)
    assert d["critical_path_ns"] * 1000 == pytest.approx(START_PS["FD"] + 2 * LUT_PS + CARRY_PS + CARRY_CI_PS)


def support_by_slices(init: int, n: int) -> set[int]:
    """The inputs a truth table depends on, by numpy: axis k of the 2^n table (reshaped to n axes of 2)
    matters iff its two slices differ."""
    table = np.array([(init >> i) & 1 for i in range(1 << n)]).reshape((2,) * n)  # axis 0 = I(n-1)
    axis = {k: n - 1 - k for k in range(n)}
    return {k for k in range(n) if not np.array_equal(np.take(table, 0, axis[k]), np.take(table, 1, axis[k]))}


@settings(max_examples=60, deadline=None, database=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, (1 << (1 << n)) - 1))))
def test_lut_support_property(case):
    n, init = case
    assert lut_support(init, n, {}) == support_by_slices(init, n)


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=12))
def test_random_lut_network_depth_equals_longest_supported_path(spec):
    # a random DAG of LUT2s (each on two earlier nets, random INIT): the model's LUT levels into the end
    # register are the longest path over the edges the truth tables depend on (computed here recursively)
    cells = {"f": cell("FDRE", {"D": [99]}, {"Q": [1]})}
    nets, level = [1], {1: 0}
    for i, (seed, a, b) in enumerate(spec):
        ins, init = [nets[-1 - a % len(nets)], nets[-1 - b % len(nets)]], seed & 0xF
        dep = support_by_slices(init, 2)
        level[10 + i] = 1 + max((level[ins[k]] for k in dep), default=-1) if dep else 0
        cells[f"l{i}"] = lut("LUT2", init, ins, 10 + i, 2)
        nets.append(10 + i)
    cells["e"] = cell("FDRE", {"D": [nets[-1]]}, {"Q": [98]})
    rows = {r["to"]: r for r in logic_depth(netlist(cells))["slowest_paths"]}
    assert rows["e"]["lut_levels"] == level[nets[-1]]  # a LUT that depends on nothing is a constant: 0


def test_a_net_nothing_reads_ends_no_path():
    # FF -> 3 LUTs into nothing (an unused carry out, say) and FF -> 1 LUT -> FF: the critical path is 1 LUT
    cells = {"f": cell("FDRE", {"D": [99]}, {"Q": [1]}), "e": cell("FDRE", {"D": [20]}, {"Q": [21]})}
    cells["x"] = lut("LUT1", 0b10, [1], 20, 1)
    for i, (a, b) in enumerate([(1, 10), (10, 11), (11, 12)]):
        cells[f"d{i}"] = lut("LUT1", 0b10, [a], b, 1)
    d = logic_depth(netlist(cells))
    assert (d["critical_path_lut_levels"], d["max_lut_levels"], d["critical_path_to"]) == (1, 3, "e")


def test_console_names_the_critical_path_against_the_clock():
    from flow.builder.report import _synthesis_rows

    ends = {"critical_path_from": "bnn_mvau.sv:120", "critical_path_to": "bnn_mvau.sv:130"}
    depth = {"critical_path_ns": 4.2, "critical_path_lut_levels": 3, "critical_path_carry4": 2, "est_fmax_mhz": 238}
    depth.update(ends)
    y = {"lut": 10, "ff": 5, "bram36": 0, "dsp": 0, "fits": True, "over_budget": {}, "depth": depth}
    for mhz, verdict in ((200.0, "meets the 200 MHz clock"), (250.0, "MISSES the 250 MHz clock")):
        rows = dict(_synthesis_rows({**y, "critical_path_ns": 4.2, "clock_mhz": mhz, "meets_clock": 4.2 <= 1e3 / mhz}))
        assert rows["critical path (delay model)"].startswith("4.2 ns, 3 LUT levels + 2 CARRY4")
        assert verdict in rows["critical path (delay model)"]


def test_compressor_pipeline_depth_follows_the_clock():
    # bnn_mvau's LevelsPerStage: the first stage (block RAM, two LUTs, then a LUT and a carry per further
    # level) fits the period; fewer registers at a slow clock, never fewer levels at a slower one
    from flow.rtl_backend.emitters.mvau import levels_per_stage
    from flow.rtl_backend.timing import CARRY_PS

    assert (levels_per_stage(10.0), levels_per_stage(5.0), levels_per_stage(4.0)) == (4, 2, 1)
    periods = [1.0 + 0.25 * i for i in range(60)]
    depths = [levels_per_stage(p) for p in periods]
    assert depths == sorted(depths) and set(depths) == {1, 2, 3, 4}
    for p, n in zip(periods, depths, strict=True):
        stage_ps = START_PS["RAMB"] + 2 * LUT_PS + (n - 1) * (LUT_PS + CARRY_PS)
        assert n == 1 or stage_ps <= p * 1000


def test_deep_block_ram_weights_get_a_register_only_where_the_clock_needs_it():
    from flow.rtl_backend.emitters.mvau import weight_out_reg

    assert weight_out_reg(4608, "block", 5.0) and not weight_out_reg(4608, "block", 10.0)  # CNV-20k's 6th layer
    assert not weight_out_reg(1024, "block", 3.0)  # one RAM deep: no multiplexer after it
    assert not weight_out_reg(4608, "logic", 3.0) and not weight_out_reg(4608, "distributed", 3.0)


def test_synth_timing_records_a_builds_whole_design_run_into_a_label(tmp_path, monkeypatch):
    """bench/synth_timing.py --whole-design BUILD (no --rtl): the build's own synthesis, with the command and
    commit it recorded, goes into a label measured before; an unknown label is refused."""
    import json

    from bench import synth_timing

    out = tmp_path / "timing_blocks.json"
    out.write_text(json.dumps({"designs": {"cnv": {"after": {"blocks": []}}}}))
    monkeypatch.setattr(synth_timing, "OUT", out)
    depth = {
        "critical_path_ns": 4.8,
        "critical_path_lut_levels": 5,
        "slowest_paths": [{"ns": 4.8}],
        "critical_path": [],
    }
    synth = {"seconds": 9.0, "lut": 10, "ff": 20, "bram36": 1.5, "critical_path_ns": 4.8, "meets_clock": True}
    summary = {"synth": {**synth, "clock_mhz": 200.0, "depth": depth}, "rtlsim": {"fps": 41000.0},
               "provenance": {"command": "python flow/build.py --synth", "commit": "abc1234", "date": "d"}}  # fmt: skip
    (tmp_path / "b" / "report").mkdir(parents=True)
    (tmp_path / "b" / "report" / "summary.json").write_text(json.dumps(summary))
    assert synth_timing.main(["--design", "cnv", "--label", "nope", "--whole-design", str(tmp_path / "b")]) == 2
    assert synth_timing.main(["--design", "cnv", "--label", "after", "--whole-design", str(tmp_path / "b")]) == 0
    w = json.loads(out.read_text())["designs"]["cnv"]["after"]["whole_design"]
    assert (w["command"], w["commit"], w["critical_path_ns"], w["rtlsim_fps"]) == (
        "python flow/build.py --synth", "abc1234", 4.8, 41000.0)  # fmt: skip


TOP = """module shiftbnn_top (
  input  logic ap_clk,
  input  logic [7:0] s_axis_tdata,
  output logic m_axis_tvalid
);
  logic [7:0] s1_A_tdata;
  logic s1_A_tvalid, s1_A_tready;
  logic [3:0] s2_B_tdata;
  logic s2_B_tvalid, s2_B_tready;
  logic [1:0] s3_C_tdata;
  logic s3_C_tvalid, s3_C_tready;
  assign s0_in_tdata = s_axis_tdata;
  assign s_axis_tready = s0_in_tready;
  assign m_axis_tvalid = s3_C_tvalid;

  A u_A (.i(s0_in_tvalid), .o(s1_A_tvalid));

  B u_B (.i(s1_A_tvalid), .o(s2_B_tvalid));

  C u_C (.i(s2_B_tvalid), .o(s3_C_tvalid));
endmodule
"""


def test_window_top_takes_the_blocks_between_two_instances_with_their_streams_as_ports():
    from bench.synth_window import window_top

    w = window_top(TOP, "B", "C")
    assert "u_B (" in w and "u_C (" in w and "u_A (" not in w and "_axis_" not in w and w.count("endmodule") == 1
    # the stream into B (s1, 8 bits) and out of C (s3, 2 bits) are the ports
    assert "input logic [7:0] s_tdata" in w and "output logic [1:0] m_tdata" in w
    assert "assign s1_A_tvalid = s_tvalid;" in w and "assign m_tvalid = s3_C_tvalid;" in w
    with pytest.raises(SystemExit):
        window_top(TOP, "B", "D")
