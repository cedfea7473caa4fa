"""Logic depth of a synthesized xc7 netlist (yosys ``write_json``, flattened): a timing proxy without Vivado.

No open place-and-route exists for these parts, so this is a static estimate, not a timing report.
Every register-to-register path (start: FF / block RAM / SRL / DSP outputs and top inputs; end: their
inputs and top outputs) is walked through the combinational cells with a fixed delay per cell, roughly
7-series -1 datasheet values plus an average net: LUT 0.55 ns, MUXF7/8 0.3 ns, CARRY4 0.4 ns entered from
a LUT and 0.12 ns carry-in to carry-out, LUTRAM asynchronous read 1.0 ns; clock-to-out FF 0.45 ns, block
RAM (no output register) 2.1 ns, SRL 1.3 ns. The result is the slowest path's estimate and its LUT
levels / CARRY4s / MUXFs, the most LUT levels on any path, and the slowest paths into distinct
registers (``slowest_paths``: where each starts and ends, so that a design's long paths can be found
block by block). Routing congestion of a full chip can make the real paths much slower: read the
numbers as relative depth, not as an Fmax.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque

SEQ_PREFIXES = ("FD", "RAMB", "DSP48", "SRL")
START_PS = {"FD": 450, "RAMB": 2100, "DSP48": 1800, "SRL": 1300}
LUTRAM_PREFIXES = ("RAM32", "RAM64", "RAM128", "RAM256")
LUTRAM_ADDR_PORTS = ("ADDRA", "ADDRB", "ADDRC", "ADDRD", "ADDRE", "ADDRF", "ADDRG", "ADDRH", "A", "DPRA")
LUT_PS, MUXF_PS, CARRY_PS, CARRY_CI_PS, LUTRAM_PS = 550, 300, 400, 120, 1000


def _kind(cell_type: str) -> str:
    if cell_type.startswith("LUT"):
        return "lut"
    if cell_type.startswith("MUXF"):
        return "muxf"
    if cell_type.startswith("CARRY"):
        return "carry"
    if cell_type.startswith(LUTRAM_PREFIXES):
        return "lutram"
    if cell_type.startswith(SEQ_PREFIXES):
        return "seq"
    return "other"


def _comb_inputs(cell: dict, kind: str) -> list[tuple[str, int]]:
    """(port, bit) pairs that propagate combinationally to the cell's outputs."""
    dirs, conns = cell["port_directions"], cell["connections"]
    ports = [p for p, d in dirs.items() if d == "input"]
    if kind == "lutram":
        ports = [p for p in ports if p.rstrip("0123456789") in LUTRAM_ADDR_PORTS]
    return [(p, b) for p in ports for b in conns.get(p, []) if isinstance(b, int)]


def _where(cells: dict, name: str | None, net_of: dict | None = None) -> str | None:
    """A cell's source location (``file:line`` of the design, not of yosys' own techmap library), else
    the design's name of the net it drives (``net_of``: bit -> public net name), else its own name."""
    if name is None:
        return None
    for src in cells[name].get("attributes", {}).get("src", "").split("|"):
        where = re.match(r"([^:]+):(\d+)", src)
        if where and "/share/" not in where.group(1):
            return f"{where.group(1).rsplit('/', 1)[-1]}:{where.group(2)}"
    for b in sorted(_bits(cells[name], "output"), key=str):
        if net_of and b in net_of:
            return net_of[b]
    return name


def _public_nets(top: dict) -> dict:
    """bit -> the shortest public (user-named) net name holding it, ``[index]`` suffixes kept."""
    out: dict = {}
    for name, net in top.get("netnames", {}).items():
        if net.get("hide_name"):
            continue
        for b in net["bits"]:
            if isinstance(b, int) and (b not in out or len(name) < len(out[b])):
                out[b] = name
    return out


def _bits(cell: dict, direction: str) -> set:
    return {b for p, d in cell["port_directions"].items() if d == direction for b in cell["connections"].get(p, [])}


def _sink(cells: dict, name: str) -> str | None:
    """The register (or other sequential cell) an output bit of cell ``name`` drives, if any."""
    outs = _bits(cells[name], "output")
    return next((n for n, c in cells.items() if _kind(c["type"]) == "seq" and _bits(c, "input") & outs), None)


def _drivers(cells: dict) -> dict[int, str]:
    """bit -> the cell whose output drives it."""
    driver: dict[int, str] = {}
    for name, cell in cells.items():
        for port, d in cell["port_directions"].items():
            if d == "output":
                for b in cell["connections"].get(port, []):
                    if isinstance(b, int):
                        driver[b] = name
    return driver


def _step(kind: str, port: str) -> tuple[int, int, int, int]:
    """(ps, LUT levels, CARRY4s, MUXFs) a signal gains through one cell of ``kind`` entered at ``port``."""
    if kind == "carry":
        return (CARRY_CI_PS if port == "CI" else CARRY_PS, 0, 1, 0)
    if kind == "lut":
        return (LUT_PS, 1, 0, 0)
    if kind == "muxf":
        return (MUXF_PS, 0, 0, 1)
    return (LUTRAM_PS, 1, 0, 0)


def _arrivals(cells: dict, driver: dict, comb: dict) -> tuple[dict, dict, int]:
    """Arrival (ps, LUT levels, carries, muxfs) at every cell's output, sources first (Kahn's order over
    the combinational cells), the register its slowest input path starts at, and the most LUT levels."""
    arrival: dict[str, tuple] = {}
    origin: dict[str, str] = {}
    for name, cell in cells.items():
        if _kind(cell["type"]) == "seq":
            start = next(v for k, v in START_PS.items() if cell["type"].startswith(k))
            arrival[name], origin[name] = (start, 0, 0, 0), name
    preds = {n: [(p, driver.get(b)) for p, b in _comb_inputs(cells[n], k)] for n, k in comb.items()}
    indeg = {n: sum(1 for _, d in ps if d in comb) for n, ps in preds.items()}
    succs = defaultdict(list)
    for n, ps in preds.items():
        for _, d in ps:
            if d in comb:
                succs[d].append(n)
    queue = deque(n for n, k in indeg.items() if k == 0)
    max_levels = 0
    while queue:
        n = queue.popleft()
        best, best_from = (0, 0, 0, 0), None
        for port, d in preds[n]:
            a = arrival.get(d, (0, 0, 0, 0)) if d is not None else (0, 0, 0, 0)
            cand = tuple(x + y for x, y in zip(a, _step(comb[n], port), strict=True))
            if cand > best:
                best, best_from = cand, origin.get(d)
            max_levels = max(max_levels, cand[1])
        arrival[n], origin[n] = best, best_from
        for s in succs[n]:
            indeg[s] -= 1
            if indeg[s] == 0:
                queue.append(s)
    return arrival, origin, max_levels


def logic_depth(netlist: dict) -> dict:
    """Critical-path estimate of the flattened top module of a yosys JSON netlist (see module doc)."""
    (top,) = [m for m in netlist["modules"].values() if m.get("attributes", {}).get("top")] or [
        next(iter(netlist["modules"].values()))
    ]
    cells = top["cells"]
    driver = _drivers(cells)
    comb = {n: _kind(c["type"]) for n, c in cells.items() if _kind(c["type"]) in ("lut", "muxf", "carry", "lutram")}
    arrival, origin, max_levels = _arrivals(cells, driver, comb)
    crit_cell = max((n for n in comb if n in arrival), key=lambda n: arrival[n], default=None)
    crit = arrival[crit_cell] if crit_cell else (0, 0, 0, 0)
    net_of = _public_nets(top)
    paths = slowest_paths(cells, driver, comb, arrival, origin, net_of)
    return {
        "critical_path_ns": round(crit[0] / 1000, 2),
        "critical_path_lut_levels": crit[1],
        "critical_path_carry4": crit[2],
        "critical_path_muxf": crit[3],
        "max_lut_levels": max_levels,
        "est_fmax_mhz": round(1e6 / crit[0]) if crit[0] else None,
        # where it starts and ends: the source location yosys keeps on the registers (None: a top input)
        "critical_path_from": _where(cells, origin.get(crit_cell), net_of),
        "critical_path_to": _where(cells, _sink(cells, crit_cell), net_of) if crit_cell else None,
        "slowest_paths": paths,
        "model": "LUT 0.55 ns, MUXF 0.3, CARRY4 0.4 (CI->CO 0.12), LUTRAM read 1.0; FF 0.45, BRAM 2.1 clock-to-out",
    }


def slowest_paths(cells: dict, driver: dict, comb: dict, arrival: dict, origin: dict, net_of: dict,
                  k: int = 12) -> list[dict]:  # fmt: skip
    """The k slowest register-to-register paths with distinct (start, end) locations (bit indices of a
    register dropped: one row per register vector): for every sequential cell, its slowest input."""
    best: dict[tuple, tuple] = {}
    for name, cell in cells.items():
        if _kind(cell["type"]) != "seq":
            continue
        ends = [driver.get(b) for b in _bits(cell, "input") if isinstance(b, int)]
        ends = [d for d in ends if d in comb and d in arrival]
        if not ends:
            continue
        last = max(ends, key=lambda d: arrival[d])
        key = tuple(
            re.sub(r"\[\d+\]$", "", w or "-")
            for w in (_where(cells, origin.get(last), net_of), _where(cells, name, net_of))
        )
        if key not in best or arrival[last] > best[key]:
            best[key] = arrival[last]
    rows = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:k]
    return [
        {"ns": round(a[0] / 1000, 2), "lut_levels": a[1], "carry4": a[2], "from": src, "to": dst}
        for (src, dst), a in rows
    ]
