"""FIFO memory style by depth, width and part (flow.analysis.memories, applied by flow.rtl_backend.styles)."""

import pytest

from flow.analysis.memories import fifo_ram_style, has_ultraram

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    "depth,width,part,style",
    [
        (2, 576, "xc7z020clg400-1", "auto"),  # shift register (fifo.sv: <= 33 words)
        (33, 192, "xc7z020clg400-1", "auto"),
        (128, 192, "xc7z020clg400-1", "block"),  # wide and deep: block RAM, not ~340 LUTRAM LUTs
        (128, 8, "xc7z020clg400-1", "auto"),  # narrow: fifo.sv's own choice (LUTRAM)
        (4113, 8, "xc7z020clg400-1", "block"),  # never UltraRAM on a 7-series part
        (4113, 8, "xczu3eg-sbva484-1-e", "auto"),
    ],
)
def test_fifo_ram_style(depth, width, part, style):
    assert fifo_ram_style(depth, width, part) == style


def test_ultraram_only_beyond_7_series():
    assert not has_ultraram("xc7z020clg400-1") and has_ultraram("xczu7ev-ffvc1156-2-e")
