"""Identical modules of an RTLIL netlist, so that yosys synthesizes each distinct module once.

The SystemVerilog frontend (read_slang) gives every instance its own module, named by its instance
path: the 32 popcount lanes of one MVAU are 32 copies that ``synth_xilinx`` would map one by one
(``keep_hierarchy`` keeps them apart; ~40 s of abc each on a loaded 2-core machine). Two modules are
the same when their RTLIL text is, up to yosys' automatic names (``$...``, renumbered in order of first
appearance) and the ``src`` / ``hdlname`` attributes (source locations, instance paths); their
instances can then share one module (``chtype -map``), and the counts do not change: identical
netlists synthesize identically.
"""

from __future__ import annotations

import hashlib
import re

MODULE = re.compile(r"((?:attribute [^\n]*\n)*)module (\S+)\n(.*?)\nend\n", re.S)
LOCATION_ATTR = re.compile(r"\s*attribute \\(src|hdlname)\b")
AUTO_NAME = re.compile(r"(?<!\S)\$\S+")  # a word that starts with $ (not \\fifo$top.u0: a user name)


def canonical(attrs: str, body: str) -> str:
    """A module's text without its name, location attributes and numbering of automatic names (a cell's
    type, ``$and`` or ``$mux``, stays as it is: only the cell's name is renumbered)."""
    ids: dict[str, str] = {}

    def rename(text: str) -> str:
        return AUTO_NAME.sub(lambda m: ids.setdefault(m.group(0), f"${len(ids)}"), text)

    out = []
    for line in (attrs + body).split("\n"):
        if LOCATION_ATTR.match(line):
            continue
        words = line.split()
        if len(words) == 3 and words[0] == "cell":
            line = f"cell {words[1]} {rename(words[2])}"
        else:
            line = rename(line)
        out.append(line)
    return "\n".join(out)


def identical_modules(rtlil: str) -> list[list[str]]:
    """Groups (two or more names, first = the one to keep) of modules with the same canonical text."""
    groups: dict[str, list[str]] = {}
    for attrs, name, body in MODULE.findall(rtlil):
        groups.setdefault(hashlib.sha1(canonical(attrs, body).encode()).hexdigest(), []).append(name)
    return [names for names in groups.values() if len(names) > 1]
