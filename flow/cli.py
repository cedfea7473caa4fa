"""What every command-line tool of shiftbnn shares: argument types."""

from __future__ import annotations

import argparse


def parse_shift(text: str) -> float | list[float]:
    """``"0.3"`` -> 0.3; ``"0.3,0,0"`` -> one value per binary layer."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shift wants a number or a comma list of numbers, got {text!r}") from None
    return values[0] if len(values) == 1 else values


def parse_ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a comma list of integers, got {text!r}") from None
