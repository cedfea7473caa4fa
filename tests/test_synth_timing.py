"""flow.rtl_backend.timing.logic_depth and synth's hierarchy expansion on hand-made netlists."""

import pytest

from flow.rtl_backend.synth import _hier_cells
from flow.rtl_backend.timing import CARRY_CI_PS, CARRY_PS, LUT_PS, START_PS, logic_depth

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


def test_hierarchy_expands_submodule_counts():
    modules = {
        "top": {"num_cells_by_type": {"LUT6": 2, "lane": 3}},
        "lane": {"num_cells_by_type": {"LUT6": 5, "FDRE": 1, "leaf": 2}},
        "leaf": {"num_cells_by_type": {"LUT2": 1}},
    }
    assert _hier_cells(modules, "top", {}) == {"LUT6": 17, "FDRE": 3, "LUT2": 6}


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
