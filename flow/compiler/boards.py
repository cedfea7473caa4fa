"""The one board table: name -> FPGA part, default fabric clock and resource budget.

Clocks are PYNQ's default fabric clock (FCLK0 = 100 MHz) on every board. Budgets are the part's
totals (LUT, FF, BRAM36, DSP) from the Xilinx product tables; ``finn_board`` is FINN's board name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Board:
    name: str
    part: str
    finn_board: str
    board_part: str  # Vivado board-file part, for the Zynq block design
    family: str  # yosys synth_xilinx -family
    zynq: str  # "zynq" (7-series PS7) or "zynq_us+" (PS8)
    clock_mhz: float
    lut: int
    ff: int
    bram36: int
    dsp: int

    def as_dict(self) -> dict:
        return asdict(self)


BOARDS: dict[str, Board] = {
    b.name: b
    for b in (
        Board(
            "Pynq-Z2",
            "xc7z020clg400-1",
            "Pynq-Z2",
            "tul.com.tw:pynq-z2:part0:1.0",
            "xc7",
            "zynq",
            100.0,
            53200,
            106400,
            140,
            220,
        ),
        Board(
            "Pynq-Z1",
            "xc7z020clg400-1",
            "Pynq-Z1",
            "www.digilentinc.com:pynq-z1:part0:1.0",
            "xc7",
            "zynq",
            100.0,
            53200,
            106400,
            140,
            220,
        ),
        Board(
            "Ultra96",
            "xczu3eg-sbva484-1-e",
            "Ultra96",
            "avnet.com:ultra96v2:part0:1.2",
            "xcup",
            "zynq_us+",
            100.0,
            70560,
            141120,
            216,
            360,
        ),
        Board(
            "ZCU104",
            "xczu7ev-ffvc1156-2-e",
            "ZCU104",
            "xilinx.com:zcu104:part0:1.1",
            "xcup",
            "zynq_us+",
            100.0,
            230400,
            460800,
            312,
            1728,
        ),
        Board(
            "KV260",
            "xck26-sfvc784-2LV-c",
            "KV260_SOM",
            "xilinx.com:kv260_som:part0:1.3",
            "xcup",
            "zynq_us+",
            100.0,
            117120,
            234240,
            144,
            1248,
        ),
    )
}


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
