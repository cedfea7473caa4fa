"""Where the RTL lives and what each block needs, for every tool that reads it (flow, tests, benchmarks).

One flat folder (``hw/rtl``), one module per file; ``COMMON_SOURCES`` go first in every compile (the
package, the X-check and the output skid buffer every block instantiates).
"""

from pathlib import Path

RTL_DIR = Path(__file__).resolve().parent / "rtl"
HARNESS_DIR = Path(__file__).resolve().parent / "harness"
COMMON_SOURCES = ("shiftbnn_pkg.sv", "shiftbnn_assert_known.sv", "axis_skid.sv")
# Black boxes of the Xilinx primitives the RTL instantiates under SYNTHESIS, for yosys (never Vivado).
YOSYS_PRIMITIVES = Path(__file__).resolve().parent / "synth" / "xilinx_primitives.sv"
# The Zynq DMA wrapper around the generated shiftbnn_top (flow/vivado), in compile order.
DMA_WRAPPER_SOURCES = ("axis_tlast_gen.sv", "shiftbnn_dma_top.v")
# Leaf modules a block instantiates (names in RTL_DIR), compiled before the block itself.
_LANE = ("shiftbnn_lut6_2.sv", "shiftbnn_carry4.sv", "bnn_gpc.sv", "bnn_add3.sv")
RTL_DEPENDENCIES = {
    "bnn_gpc": _LANE[:2],
    "bnn_add3": _LANE[:2],
    "bnn_popcount": _LANE,
    "mvau_wmem": ("mvau_wload.sv",),
    "bnn_mvau": ("mvau_fold.sv", "mvau_wload.sv", "mvau_wmem.sv", *_LANE, "bnn_popcount.sv"),
    "int_mvau": ("mvau_fold.sv", "mvau_wload.sv", "mvau_wmem.sv"),
}


class SvLiteral(str):
    """A parameter value written into SystemVerilog as is (e.g. a sized vector ``6'h25``), not quoted."""


def sv_mask(bits, width: int) -> SvLiteral:
    """A ``width``-bit vector parameter with bit i set where ``bits[i]`` is true (bit 0 first)."""
    value = sum(1 << i for i, b in enumerate(bits) if b)
    return SvLiteral(f"{width}'h{value:x}")
