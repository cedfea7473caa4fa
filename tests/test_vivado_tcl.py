"""The Vivado Tcl of the board path, without Vivado: flow/vivado/build_bitstream.py writes
OUTPUT/vivado/build.tcl for every board of the board table; tclsh runs it with stub Vivado commands
(tests/vivado_stub.tcl) that record the calls. Checked: the Tcl runs (syntax, variables), every file it
hands to Vivado exists, the block design has the expected cells and connections, the clock is the
board's, and the bitstream/.hwh/reports land where the driver and the summary expect them.
run_vivado is exercised with a fake `vivado` executable (the same stub) for the built/failed/skipped
records; the real Vivado run is tests/test_build_bitstream.py (`vivado` marker)."""

import json
from pathlib import Path

import pytest
from helpers import HIER, TCLSH, TIMING, UTIL, fake_vivado, run_stub

from flow.core.boards import BOARDS, get_board
from flow.vivado.build_bitstream import (
    VivadoError,
    dma_width,
    parse_hierarchical_utilization,
    parse_timing,
    parse_utilization,
    run_vivado,
    write_tcl,
)

TOP = {
    "top": "shiftbnn_top", "in_width": 64, "out_width": 8, "in_elem_bits": 8, "in_elems_per_beat": 8,
    "in_beats_per_image": 98, "in_datatype": "UINT8", "in_shape_nhwc": [1, 28, 28, 1],
    "out_elem_bits": 8, "out_elems_per_beat": 1, "out_beats_per_image": 1, "out_datatype": "UINT8",
    "out_shape": [1, 1], "clock_mhz": 100.0,
}  # fmt: skip
pytestmark = [pytest.mark.fast, pytest.mark.skipif(TCLSH is None, reason="tclsh not installed")]


def make_rtl(root: Path, top=TOP) -> Path:
    rtl = root / "rtl"
    rtl.mkdir(parents=True)
    (rtl / "top.json").write_text(json.dumps(top))
    for f in ("bnn_mvau.sv", "axis_skid.sv", "shiftbnn_top.sv"):
        (rtl / f).write_text(f"// {f}\n")
    (rtl / "filelist.f").write_text("bnn_mvau.sv\naxis_skid.sv\nshiftbnn_top.sv\n")
    (rtl / "layer0_weights.dat").write_text("ff\n")
    (rtl / "layer0_thresholds.dat").write_text("01\n")
    return root


def find(calls, cmd):
    return [c[1:] for c in calls if c[0] == cmd]


@pytest.mark.parametrize("board_name", list(BOARDS))
def test_tcl_under_stub_vivado(tmp_path, board_name):
    board = get_board(board_name)
    out = make_rtl(tmp_path / "build")
    tcl = write_tcl(out, board)
    assert str(tmp_path) not in tcl.read_text(), "the Tcl must not hard-code the build folder (it is moved)"
    calls = run_stub(tcl)

    # Files: the generated sources in filelist order, the wrapper RTL, the memory files.
    added = [f for args in find(calls, "add_files") for a in args if not a.startswith("-") for f in a.split()]
    names = [Path(f).name for f in added]
    assert names[:5] == ["bnn_mvau.sv", "axis_skid.sv", "shiftbnn_top.sv", "axis_tlast_gen.sv", "shiftbnn_dma_top.v"]
    assert {"layer0_weights.dat", "layer0_thresholds.dat"} <= set(names)
    assert all(Path(f).is_file() for f in added)
    # The IP: packaged from the wrapper top, streams clocked by ap_clk.
    assert ["top", "shiftbnn_dma_top", "current_fileset"] in [a[:3] for a in find(calls, "set_property")]
    assert any("-root_dir" in a for a in find(calls, "ipx::package_project"))
    assert [["-busif", "s_axis", "-clock", "ap_clk", ""], ["-busif", "m_axis", "-clock", "ap_clk", ""]] == find(
        calls, "ipx::associate_bus_interfaces"
    )

    # Board preset and part.
    assert ["board_part", board.board_part, "current_project"] in [a[:3] for a in find(calls, "set_property")]
    assert find(calls, "create_project")[1][-1] == board.part
    cells = {a[-1]: a[a.index("-vlnv") + 1] for a in find(calls, "create_bd_cell")}
    ps_ip = "processing_system7" if board.zynq == "zynq" else "zynq_ultra_ps_e"
    assert cells["ps"].startswith(f"xilinx.com:ip:{ps_ip}:")
    assert cells["axi_dma_0"].startswith("xilinx.com:ip:axi_dma:")
    assert cells["rst_pl"].startswith("xilinx.com:ip:proc_sys_reset:")
    assert cells["accel"] == "shiftbnn:shiftbnn:shiftbnn_dma_top:1.0"
    assert {"ctrl_sc", "mem_sc"} <= set(cells) and "in_conv" not in cells and "out_conv" not in cells

    # Properties: clock at the board default, DMA simple mode with the stream widths, accel params.
    props = {}
    for args in find(calls, "set_property"):
        if args[0] == "-dict":
            kv = args[1].split()
            props.setdefault(args[2], {}).update(dict(zip(kv[::2], kv[1::2], strict=True)))
    clk_key = (
        "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ" if board.zynq == "zynq" else "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ"
    )
    assert float(props["ps"][clk_key]) == board.clock_mhz
    dma = props["axi_dma_0"]
    assert dma["CONFIG.c_include_sg"] == "0" and dma["CONFIG.c_m_axis_mm2s_tdata_width"] == "64"
    assert dma["CONFIG.c_s_axis_s2mm_tdata_width"] == "8"
    assert dma["CONFIG.c_m_axi_mm2s_data_width"] == "64" and dma["CONFIG.c_m_axi_s2mm_data_width"] == "64"
    assert props["accel"] == {
        "CONFIG.IN_WIDTH": "64",
        "CONFIG.OUT_WIDTH": "8",
        "CONFIG.IN_BEATS": "98",
        "CONFIG.OUT_BEATS": "1",
    }

    # Connections: the stream loop through the DMA, control and memory paths, one clock, one reset.
    intf = {tuple(a) for a in find(calls, "connect_bd_intf_net")}
    master, hp = ("ps/M_AXI_GP0", "ps/S_AXI_HP0") if board.zynq == "zynq" else ("ps/M_AXI_HPM0_FPD", "ps/S_AXI_HP0_FPD")
    assert intf == {
        ("axi_dma_0/M_AXIS_MM2S", "accel/s_axis"),
        ("accel/m_axis", "axi_dma_0/S_AXIS_S2MM"),
        (master, "ctrl_sc/S00_AXI"),
        ("ctrl_sc/M00_AXI", "axi_dma_0/S_AXI_LITE"),
        ("axi_dma_0/M_AXI_MM2S", "mem_sc/S00_AXI"),
        ("axi_dma_0/M_AXI_S2MM", "mem_sc/S01_AXI"),
        ("mem_sc/M00_AXI", hp),
    }
    nets = [a for a in find(calls, "connect_bd_net")]
    clock = next(n for n in nets if n[0] in ("ps/FCLK_CLK0", "ps/pl_clk0"))
    for pin in ("accel/ap_clk", "axi_dma_0/s_axi_lite_aclk", "axi_dma_0/m_axi_mm2s_aclk", "axi_dma_0/m_axi_s2mm_aclk",
                "ctrl_sc/aclk", "mem_sc/aclk", "rst_pl/slowest_sync_clk"):  # fmt: skip
        assert pin in clock, pin
    reset = next(n for n in nets if n[0] == "rst_pl/peripheral_aresetn")
    assert {"accel/ap_rst_n", "axi_dma_0/axi_resetn"} <= set(reset)
    assert find(calls, "assign_bd_address") and find(calls, "validate_bd_design")

    # Outputs where the driver and the summary look for them.
    assert (out / "deploy" / "shiftbnn.bit").is_file() and (out / "deploy" / "shiftbnn.hwh").is_file()
    for rpt in ("vivado_utilization.rpt", "vivado_utilization_hier.rpt", "vivado_timing.rpt"):
        assert (out / "report" / rpt).is_file()
    assert (out / "report" / "vivado_version.txt").read_text().strip() == "2024.2-stub"


def test_width_converters_where_dma_cannot(tmp_path):
    top = {**TOP, "in_width": 784 * 8, "in_elems_per_beat": 784, "in_beats_per_image": 1, "out_width": 24}
    out = make_rtl(tmp_path / "b", top)
    calls = run_stub(write_tcl(out, "Pynq-Z2"))
    intf = {tuple(a) for a in find(calls, "connect_bd_intf_net")}
    assert ("axi_dma_0/M_AXIS_MM2S", "in_conv/S_AXIS") in intf and ("in_conv/M_AXIS", "accel/s_axis") in intf
    assert ("accel/m_axis", "out_conv/S_AXIS") in intf and ("out_conv/M_AXIS", "axi_dma_0/S_AXIS_S2MM") in intf
    assert dma_width(784 * 8) == 64 and dma_width(224) == 32 and dma_width(48) == 16 and dma_width(24) == 8
    assert dma_width(32) == 32 and dma_width(1024) == 1024


def test_runtime_weights_get_the_weight_dma(tmp_path):
    """A top with run-time weights (top.json runtime_weights): the packaged wrapper has s_axis_wgt, and a
    second DMA (MM2S only, 32-bit stream) under the name the driver uses feeds it, on the control and
    memory interconnects, the clock and the reset; a top without them has neither."""
    from flow.deploy.package import WEIGHT_DMA_NAME

    entry = {"node": "MVAU_0", "file": "layer0_weights.dat", "width": 8, "words": 1, "beats": 1}
    out = make_rtl(tmp_path / "b", {**TOP, "runtime_weights": [entry]})
    calls = run_stub(write_tcl(out, "ZCU104"))
    assert (out / "vivado" / "shiftbnn_dma_top.v").read_text().startswith("`define SHIFTBNN_WEIGHT_PORT\n")
    assert ["-busif", "s_axis_wgt", "-clock", "ap_clk", ""] in find(calls, "ipx::associate_bus_interfaces")
    cells = {a[-1]: a[a.index("-vlnv") + 1] for a in find(calls, "create_bd_cell")}
    assert WEIGHT_DMA_NAME == "axi_dma_weights" and cells["axi_dma_weights"].startswith("xilinx.com:ip:axi_dma:")
    props = {}
    for args in find(calls, "set_property"):
        if args[0] == "-dict":
            kv = args[1].split()
            props.setdefault(args[2], {}).update(dict(zip(kv[::2], kv[1::2], strict=True)))
    wdma = props["axi_dma_weights"]
    assert wdma["CONFIG.c_include_s2mm"] == "0" and wdma["CONFIG.c_m_axis_mm2s_tdata_width"] == "32"
    assert props["ctrl_sc"]["CONFIG.NUM_MI"] == "2" and props["mem_sc"]["CONFIG.NUM_SI"] == "3"
    intf = {tuple(a) for a in find(calls, "connect_bd_intf_net")}
    assert {("axi_dma_weights/M_AXIS_MM2S", "accel/s_axis_wgt"), ("ctrl_sc/M01_AXI", "axi_dma_weights/S_AXI_LITE"),
            ("axi_dma_weights/M_AXI_MM2S", "mem_sc/S02_AXI")} <= intf  # fmt: skip
    nets = find(calls, "connect_bd_net")
    assert "axi_dma_weights/m_axi_mm2s_aclk" in next(n for n in nets if n[0] == "ps/pl_clk0")
    assert "axi_dma_weights/axi_resetn" in next(n for n in nets if n[0] == "rst_pl/peripheral_aresetn")

    plain = make_rtl(tmp_path / "plain")
    calls = run_stub(write_tcl(plain, "ZCU104"))
    assert "SHIFTBNN_WEIGHT_PORT" not in (plain / "vivado" / "shiftbnn_dma_top.v").read_text().split("\n")[0]
    assert "axi_dma_weights" not in {a[-1] for a in find(calls, "create_bd_cell")}


def test_missing_rtl_clear_errors(tmp_path):
    with pytest.raises(VivadoError, match="top.json not found"):
        write_tcl(tmp_path, "Pynq-Z2")
    out = make_rtl(tmp_path / "b")
    (out / "rtl" / "axis_skid.sv").unlink()
    with pytest.raises(VivadoError, match="missing files: axis_skid.sv"):
        write_tcl(out, "Pynq-Z2")
    with pytest.raises(ValueError, match="unknown board"):
        write_tcl(out, "Arty")


def test_hierarchical_utilization_below_the_accelerator():
    rows = parse_hierarchical_utilization(HIER)
    assert [(r["instance"], r["depth"]) for r in rows] == [("inst", 1), ("core", 2), ("mvau_0", 3), ("tlast", 2)]
    assert rows[2] == {"instance": "mvau_0", "depth": 3, "lut": 2000, "ff": 1500, "ramb36": 1.0, "ramb18": 1, "dsp": 0}
    assert parse_hierarchical_utilization("") == []


def test_report_parsers():
    assert parse_utilization(UTIL) == {"lut": 12345, "ff": 2345, "bram36": 12.5, "dsp": 0}
    assert parse_timing(TIMING) == {"wns_ns": 1.234, "whs_ns": 0.051, "met": True}
    assert parse_utilization("") == {} and parse_timing("") == {}


def test_run_vivado_records(tmp_path, monkeypatch):
    out = make_rtl(tmp_path / "b")
    monkeypatch.delenv("XILINX_VIVADO", raising=False)
    assert run_vivado(out, "Pynq-Z2") == {"status": "skipped", "reason": "Vivado not found (XILINX_VIVADO is not set)"}
    monkeypatch.setenv("XILINX_VIVADO", str(fake_vivado(tmp_path / "ok")))
    rec = run_vivado(out, "Pynq-Z2")
    assert rec["status"] == "built", rec
    assert (
        rec["version"] == "2024.2-stub"
        and rec["bitfile"] == "deploy/shiftbnn.bit"
        and rec["hwh"] == "deploy/shiftbnn.hwh"
    )
    assert rec["utilization"]["lut"] == 12345 and rec["timing"]["met"] is True
    assert [r["instance"] for r in rec["utilization_accel"]] == ["inst", "core", "mvau_0", "tlast"]
    assert rec["reason"] == "Vivado 2024.2-stub, timing met"
    (out / "deploy" / "shiftbnn.bit").unlink()
    monkeypatch.setenv("XILINX_VIVADO", str(fake_vivado(tmp_path / "bad", fail=True)))
    rec = run_vivado(out, "Pynq-Z2")
    assert rec["status"] == "failed" and "module 'shiftbnn_top' not found" in rec["reason"]


def test_wide_legal_stream_widens_the_memory_side(tmp_path):
    top = {**TOP, "in_width": 256, "in_elems_per_beat": 32, "in_beats_per_image": 49}
    calls = run_stub(write_tcl(make_rtl(tmp_path / "b", top), "ZCU104"))
    dma = next(a for a in find(calls, "set_property") if a[0] == "-dict" and a[2] == "axi_dma_0")[1].split()
    props = dict(zip(dma[::2], dma[1::2], strict=True))
    assert props["CONFIG.c_m_axis_mm2s_tdata_width"] == "256" and props["CONFIG.c_m_axi_mm2s_data_width"] == "256"
    assert "in_conv" not in {a[-1] for a in find(calls, "create_bd_cell")}


def test_standalone_tcl_runs_the_fabric_at_the_designs_clock(tmp_path, capsys):
    """A design built with --clock-mhz 150 gets a 150 MHz fabric clock from the standalone CLI too."""
    from flow.core.files import MARKER
    from flow.vivado.build_bitstream import main

    out = make_rtl(tmp_path / "build", {**TOP, "clock_mhz": 150.0})
    (out / MARKER).write_text("{}")  # a folder flow/build.py wrote: the only kind the CLI writes into
    assert main([str(out), "--board", "Pynq-Z2", "--tcl-only"]) == 0
    tcl = Path(capsys.readouterr().out.strip()).read_text()
    assert "set clock_mhz 150\n" in tcl
