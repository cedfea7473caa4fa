"""FINN datatypes the ops and the compiler pick for integer ranges."""

from __future__ import annotations

from qonnx.core.datatype import DataType


def int_type(lo: int, hi: int) -> DataType:
    """The smallest signed INT type holding [lo, hi]."""
    bits = max(int(hi).bit_length(), int(-lo - 1).bit_length() if lo < 0 else 0) + 1
    return DataType[f"INT{max(2, bits)}"]
