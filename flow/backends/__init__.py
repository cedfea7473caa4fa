"""The backends a build can target, by name (``--backend``): each implements the protocol of
flow/core/config.py (check, fold, generate, simulate, synthesize, bitstream). The build steps call the
chosen one; nothing else branches on a backend's name. A new backend is one module and one line here."""

from __future__ import annotations

from flow.backends.finn_hls import FinnHlsBackend
from flow.backends.rtl import RtlBackend
from flow.core.config import Backend

BACKENDS: dict[str, Backend] = {b.name: b for b in (RtlBackend(), FinnHlsBackend())}
DEFAULT_BACKEND = "rtl"


def get_backend(name: str) -> Backend:
    """The registered backend ``name`` (KeyError names the valid ones)."""
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown backend {name!r}; valid backends: {', '.join(BACKENDS)}") from None
