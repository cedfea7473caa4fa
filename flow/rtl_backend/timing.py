"""Logic depth of a synthesized xc7 netlist (yosys ``write_json``, flattened): a timing proxy without Vivado.

No open place-and-route exists for these parts, so this is a static estimate, not a timing report.
Every register-to-register path (start: FF / block RAM / SRL / DSP outputs and top inputs; end: their
inputs and top outputs) is walked through the combinational cells with a fixed delay per cell, roughly
7-series -1 datasheet values plus an average net: LUT 0.55 ns, MUXF7/8 0.3 ns, CARRY4 0.4 ns entered from
a LUT and 0.12 ns carry-in to carry-out, LUTRAM asynchronous read 1.0 ns; clock-to-out FF 0.45 ns, block
RAM (no output register) 2.1 ns, SRL 1.3 ns. Arrival times are kept per net bit: a LUT output is reached
only from the inputs its truth table (INIT, with constant-tied inputs fixed) depends on, so an input a
LUT ignores adds no level (bnn_add3's majority bit on O5 does not ripple through the LUTs above it); a
CARRY4 output at position k only from S/DI at positions <= k and the carry in. A path ends at a register
input or a top output (a net nothing reads ends none). The result is the slowest path's estimate and its
LUT levels / CARRY4s / MUXFs, the most LUT levels on any path, and the slowest paths into distinct
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


def _init_value(cell: dict) -> int | None:
    """A LUT's truth table (INIT, yosys writes it as a string of binary digits, MSB first); None when
    absent or not a plain 0/1 string (then every input counts)."""
    init = cell.get("parameters", {}).get("INIT")
    if isinstance(init, int):
        return init
    if isinstance(init, str) and init.strip() and set(init.strip()) <= {"0", "1"}:
        return int(init.strip(), 2)
    return None


def lut_support(init: int, n: int, fixed: dict[int, int]) -> set[int]:
    """The inputs (0..n-1) a LUT of ``n`` inputs and truth table ``init`` (bit i = output for input word
    i) depends on, with the inputs in ``fixed`` tied to constants: input k counts iff some assignment of
    the free inputs gives a different output for I_k = 0 and I_k = 1."""
    free = [k for k in range(n) if k not in fixed]
    base = sum(v << k for k, v in fixed.items())
    out = set()
    for k in free:
        others = [j for j in free if j != k]
        for m in range(1 << len(others)):
            i = base | sum(((m >> t) & 1) << j for t, j in enumerate(others))
            if (init >> i) & 1 != (init >> (i | 1 << k)) & 1:
                out.add(k)
                break
    return out


def _lut_deps(cell: dict) -> dict[str, list[str]] | None:
    """Output port -> the input ports its function depends on (LUT1..6: O; LUT6_2: O6 over I0..I5, O5
    over the lower half, I0..I4); constant-tied inputs fixed. None: unknown (every input counts)."""
    init, conns = _init_value(cell), cell["connections"]
    if init is None:
        return None
    fixed = {}
    for k in range(6):
        bits = conns.get(f"I{k}", [])
        if len(bits) == 1 and bits[0] in ("0", "1"):
            fixed[k] = int(bits[0])
    if cell["type"] == "LUT6_2":
        tables = {"O6": (init, 6), "O5": (init & 0xFFFFFFFF, 5)}
    else:
        tables = {"O": (init, int(cell["type"][3:]))}
    return {
        o: [f"I{k}" for k in lut_support(t, n, {k: v for k, v in fixed.items() if k < n})]
        for o, (t, n) in tables.items()
    }


def _comb_deps(cell: dict, kind: str) -> dict:
    """Output bit -> the (port, bit) input pairs that propagate combinationally to it: a LUT's outputs
    only from the inputs its truth table depends on (an input it ignores, or whose effect a constant
    input masks, starts no path through it: a ternary adder's majority bit does not ripple); a carry
    chain's position k only from S/DI at positions <= k and the carry in; a LUTRAM's outputs from its
    read address; anything else from every input."""
    dirs, conns = cell["port_directions"], cell["connections"]
    ins = [p for p, d in dirs.items() if d == "input"]
    if kind == "lutram":
        ins = [p for p in ins if p.rstrip("0123456789") in LUTRAM_ADDR_PORTS]
    pairs = {p: [(p, i, b) for i, b in enumerate(conns.get(p, [])) if isinstance(b, int)] for p in ins}
    lut = _lut_deps(cell) if kind == "lut" else None
    deps: dict = {}
    for port, d in dirs.items():
        if d != "output":
            continue
        for i, b in enumerate(conns.get(port, [])):
            if not isinstance(b, int):
                continue
            if lut is not None:
                src = [x for p in lut.get(port, ins) for x in pairs.get(p, [])]
            elif kind == "carry":
                src = [x for p in ins for x in pairs[p] if p in ("CI", "CYINIT") or x[1] <= i]
            else:
                src = [x for p in ins for x in pairs[p]]
            deps[b] = [(p, sb) for p, _, sb in src]
    return deps


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


def _sink(cells: dict, bit: int) -> str | None:
    """The register (or other sequential cell) net bit ``bit`` drives, if any."""
    return next((n for n, c in cells.items() if _kind(c["type"]) == "seq" and bit in _bits(c, "input")), None)


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


def _arrivals(cells: dict, driver: dict, comb: dict) -> tuple[dict, dict, dict, int]:
    """Arrival (ps, LUT levels, carries, muxfs) at every net bit a cell drives, sources first (Kahn's
    order over the combinational output bits: bit-level, so that a cell's outputs arrive each from the
    inputs it depends on), the register its slowest input path starts at, each bit's slowest input bit
    (``pred``: bit -> (input bit, port), to walk a path back) and the most LUT levels."""
    arrival: dict[int, tuple] = {}
    origin: dict[int, str] = {}
    pred: dict[int, tuple] = {}
    for name, cell in cells.items():
        if _kind(cell["type"]) == "seq":
            start = next(v for k, v in START_PS.items() if cell["type"].startswith(k))
            for b in _bits(cell, "output"):
                arrival[b], origin[b] = (start, 0, 0, 0), name
    deps = {b: (n, ds) for n, k in comb.items() for b, ds in _comb_deps(cells[n], k).items()}
    indeg = {b: sum(1 for _, d in ds if d in deps) for b, (_, ds) in deps.items()}
    succs = defaultdict(list)
    for b, (_, ds) in deps.items():
        for _, d in ds:
            if d in deps:
                succs[d].append(b)
    queue = deque(b for b, k in indeg.items() if k == 0)
    max_levels = 0
    while queue:
        b = queue.popleft()
        n, ds = deps[b]
        best, best_from, best_in = (0, 0, 0, 0), None, None
        for port, d in ds:
            cand = tuple(x + y for x, y in zip(arrival.get(d, (0, 0, 0, 0)), _step(comb[n], port), strict=True))
            if cand > best:
                best, best_from, best_in = cand, origin.get(d), (d, port)
            max_levels = max(max_levels, cand[1])
        arrival[b], origin[b] = best, best_from
        if best_in is not None:
            pred[b] = best_in
        for s in succs[b]:
            indeg[s] -= 1
            if indeg[s] == 0:
                queue.append(s)
    return arrival, origin, pred, max_levels


def path_report(cells: dict, driver: dict, arrival: dict, pred: dict, net_of: dict, end_bit: int) -> list[dict]:
    """The slowest path into net bit ``end_bit``, start first, as a timing report lists it: per step the
    cell (instance name and type), the input pin the path enters by, the net it drives (the design's
    name where one is kept), its source location, and the arrival time (ns) at its output."""
    steps, b = [], end_bit
    while True:
        name = driver.get(b)
        step = {"ns": round(arrival.get(b, (0,))[0] / 1000, 2), "cell": name, "net": net_of.get(b, f"<bit {b}>")}
        if name is not None:
            step.update(type=cells[name]["type"], at=_where(cells, name))
        if b in pred:
            b, step["pin"] = pred[b]
            steps.append(step)
            continue
        steps.append(step)  # a register output or a top input: the start
        return steps[::-1]


def format_path(steps: list[dict]) -> str:
    """A path report as text, one line per cell: arrival, cell type, entry pin, net, source."""
    rows = [f"{'ns':>6}  {'cell':<8} {'pin':<5} {'net':<48} at"]
    for s in steps:
        rows.append(
            f"{s['ns']:>6.2f}  {s.get('type', 'port'):<8} {s.get('pin', ''):<5} {s['net'][:48]:<48} {s.get('at', '')}"
        )
    return "\n".join(rows)


def logic_depth(netlist: dict) -> dict:
    """Critical-path estimate of the flattened top module of a yosys JSON netlist (see module doc)."""
    (top,) = [m for m in netlist["modules"].values() if m.get("attributes", {}).get("top")] or [
        next(iter(netlist["modules"].values()))
    ]
    cells = top["cells"]
    driver = _drivers(cells)
    comb = {n: _kind(c["type"]) for n, c in cells.items() if _kind(c["type"]) in ("lut", "muxf", "carry", "lutram")}
    arrival, origin, pred, max_levels = _arrivals(cells, driver, comb)
    # path ends: register inputs and the top's outputs (a carry output nothing reads ends no path)
    ends = {b for c in cells.values() if _kind(c["type"]) == "seq" for b in _bits(c, "input")}
    ends |= {b for port in top.get("ports", {}).values() if port["direction"] == "output" for b in port["bits"]}
    comb_bits = [b for b in ends if driver.get(b) in comb and b in arrival]
    crit_bit = max(comb_bits, key=lambda b: arrival[b], default=None)
    crit = arrival[crit_bit] if crit_bit is not None else (0, 0, 0, 0)
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
        "critical_path_from": _where(cells, origin.get(crit_bit), net_of),
        "critical_path_to": _where(cells, _sink(cells, crit_bit), net_of) if crit_bit is not None else None,
        "slowest_paths": paths,
        # the critical path cell by cell (path_report), start first
        "critical_path": path_report(cells, driver, arrival, pred, net_of, crit_bit) if crit_bit is not None else [],
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
        ends = [b for b in _bits(cell, "input") if isinstance(b, int) and driver.get(b) in comb and b in arrival]
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
