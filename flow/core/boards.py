"""The one board table: name -> FPGA part, default fabric clock and resource budget.

Clocks are PYNQ's default fabric clock (FCLK0 = 100 MHz) on every board. Budgets are the part's
totals (LUT, FF, BRAM36, DSP) from the Xilinx product tables; ``finn_board`` is FINN's board name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class Board:
    name: str  # the name users type (--board)
    part: str  # FPGA part number
    finn_board: str  # FINN's board name
    board_part: str  # Vivado board-file part, for the Zynq block design
    family: str  # yosys synth_xilinx -family
    zynq: str  # "zynq" (7-series PS7) or "zynq_us+" (PS8)
    clock_mhz: float  # PYNQ's default fabric clock FCLK0
    lut: int  # resource budget: the part's totals
    ff: int
    bram36: int
    dsp: int

    def as_dict(self) -> dict:
        return asdict(self)


ZYNQ_7020 = dict(part="xc7z020clg400-1", family="xc7", zynq="zynq", lut=53200, ff=106400, bram36=140, dsp=220)
BOARDS: dict[str, Board] = {
    b.name: b
    for b in (
        Board(name="Pynq-Z2", finn_board="Pynq-Z2", board_part="tul.com.tw:pynq-z2:part0:1.0", clock_mhz=100.0,
              **ZYNQ_7020),
        Board(name="Pynq-Z1", finn_board="Pynq-Z1", board_part="www.digilentinc.com:pynq-z1:part0:1.0",
              clock_mhz=100.0, **ZYNQ_7020),
        Board(name="Ultra96", part="xczu3eg-sbva484-1-e", finn_board="Ultra96",
              board_part="avnet.com:ultra96v2:part0:1.2", family="xcup", zynq="zynq_us+", clock_mhz=100.0,
              lut=70560, ff=141120, bram36=216, dsp=360),
        Board(name="ZCU104", part="xczu7ev-ffvc1156-2-e", finn_board="ZCU104", board_part="xilinx.com:zcu104:part0:1.1",
              family="xcup", zynq="zynq_us+", clock_mhz=100.0, lut=230400, ff=460800, bram36=312, dsp=1728),
        Board(name="KV260", part="xck26-sfvc784-2LV-c", finn_board="KV260_SOM",
              board_part="xilinx.com:kv260_som:part0:1.3", family="xcup", zynq="zynq_us+", clock_mhz=100.0,
              lut=117120, ff=234240, bram36=144, dsp=1248),
    )
}  # fmt: skip


class BoardError(ValueError):
    """An unknown board name."""


def get_board(name: str) -> Board:
    if name not in BOARDS:
        raise BoardError(f"unknown board {name!r}; valid boards: {', '.join(BOARDS)}")
    return BOARDS[name]


def board_table() -> str:
    rows = [f"{'board':<9} {'part':<22} {'clock':>7} {'LUT':>7} {'BRAM36':>6} {'DSP':>5}"]
    for b in BOARDS.values():
        rows.append(f"{b.name:<9} {b.part:<22} {b.clock_mhz:>4.0f}MHz {b.lut:>7} {b.bram36:>6} {b.dsp:>5}")
    return "\n".join(rows)
