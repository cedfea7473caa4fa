"""Layers that point one way: the import graph of the packages against docs/architecture.md's layer table.

Every module of flow/ belongs to one layer of the table (the block between the ``layers`` markers); a
module imports only its own package, lower layers, or the packages outside flow/ (brevitas_models, hw,
libraries); brevitas_models and hw never import flow; and no two modules import each other in a circle.
Every import counts, those inside functions too.
"""

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast
ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def layer_table() -> list[list[str]]:
    """The packages (or entry modules) of each layer, bottom first, from docs/architecture.md."""
    text = ARCHITECTURE.read_text()
    block = re.search(r"<!-- layers -->\n```\n(.*?)```\n<!-- /layers -->", text, re.S)
    assert block, "docs/architecture.md lost its layer table (between <!-- layers --> markers)"
    rows = []
    for line in block.group(1).splitlines():
        match = re.match(r"\s*L(\d+)\s+(.*?)\s*$", line)
        if match:
            names = re.findall(r"flow[\w./]*", match.group(2))
            rows.append((int(match.group(1)), [n.rstrip("/").replace("/", ".").removesuffix(".py") for n in names]))
    rows.sort()
    assert [n for n, _ in rows] == list(range(len(rows))), "layers must be numbered L0, L1, ... without gaps"
    return [names for _, names in rows]


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def modules(*packages: str) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules of ``known`` that ``path`` imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: up (level - 1) packages from this module's package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # import a.b.c of a package: the deepest module we know
                target = target.rpartition(".")[0]
            if target:
                out.add(target)
    return out


def owner(module: str, table: list[list[str]]) -> tuple[int, str] | None:
    """(layer, unit) of a flow module: the longest table entry it is or lies in."""
    best = None
    for layer, units in enumerate(table):
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best[1])):
                best = (layer, unit)
    return best


def import_graph() -> dict[str, set[str]]:
    mods = modules("flow", "brevitas_models", "hw")
    return {name: imports_of(path, name, set(mods)) - {name} for name, path in mods.items()}


def test_every_flow_module_has_a_layer():
    table = layer_table()
    missing = [m for m in modules("flow") if m != "flow" and owner(m, table) is None]
    assert not missing, f"modules without a layer in docs/architecture.md: {missing}"


def test_imports_point_down():
    table, graph = layer_table(), import_graph()
    upward = []
    for module, targets in graph.items():
        for target in targets:
            if not target.startswith("flow."):
                continue
            if not module.startswith("flow"):
                upward.append(f"{module} -> {target} (brevitas_models and hw never import flow)")
                continue
            (layer, unit), (target_layer, target_unit) = owner(module, table), owner(target, table)
            if unit != target_unit and target_layer >= layer:
                upward.append(f"{module} (L{layer}) -> {target} (L{target_layer})")
    assert not upward, "imports that do not point down:\n" + "\n".join(sorted(upward))


def test_no_circles():
    graph = import_graph()
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, f"modules that import each other in a circle: {circles}"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The rule itself: a compiler module importing the builder is caught."""
    table = layer_table()
    layer_of = {unit: n for n, units in enumerate(table) for unit in units}
    assert layer_of["flow.compiler"] < layer_of["flow.builder"]
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from flow.builder.pipeline import run_build\n")
    assert imports_of(path, "flow.compiler.x", {"flow.builder.pipeline"}) == {"flow.builder.pipeline"}
