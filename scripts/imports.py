"""Print landkit's import graph: module sizes, import cycles, and imports that go up the layers.

Run: ``.venv/bin/python scripts/imports.py [--layers]`` (``grimp`` is in the ``test`` extra; ``tests/test_layout.py`` runs it).

The graph is grimp's (the engine of import-linter): every ``import`` in a module, the ones
inside functions included, because a lazy import is still a dependency. Cycles are the strongly
connected components of that graph (SciPy's ``csgraph``). With ``--layers``, the layers of
``[tool.importlinter]`` in pyproject.toml are checked too: an import from a lower layer to a
higher one is listed. Exit status 1 when there is a cycle or an upward import.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "landkit"


def build_graph():
    """Return grimp's import graph of the package (external packages left out)."""
    import grimp

    sys.path.insert(0, str(ROOT))
    return grimp.build_graph(PACKAGE, include_external_packages=False)


def module_lines(graph) -> dict[str, int]:
    """Module → lines of source."""
    out = {}
    for module in graph.modules:
        path = ROOT.joinpath(*module.split("."))
        file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        if file.exists():
            out[module] = len(file.read_text(encoding="utf-8").splitlines())
    return out


def cycles(graph) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module, largest first."""
    modules = sorted(graph.modules)
    index = {m: i for i, m in enumerate(modules)}
    edges = [(index[a], index[b]) for a in modules for b in graph.find_modules_directly_imported_by(a) if b in index]
    if not edges:
        return []
    rows, cols = np.array(edges).T
    matrix = csr_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(modules), len(modules)))
    n, labels = connected_components(matrix, directed=True, connection="strong")
    groups = [[modules[i] for i in np.flatnonzero(labels == k)] for k in range(n)]
    return sorted((g for g in groups if len(g) > 1), key=len, reverse=True)


def layers() -> list[str]:
    """The layers of the first ``layers`` contract in pyproject.toml, top first (empty if none)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config.get("tool", {}).get("importlinter", {}).get("contracts", [])
    found = next((c for c in contracts if c.get("type") == "layers"), None)
    names = found["layers"] if found else []  # import-linter takes full names (and, under root_package, short ones)
    return [layer if layer.startswith(PACKAGE + ".") else f"{PACKAGE}.{layer}" for layer in names]


def upward_imports(graph, order: list[str]) -> list[tuple[str, str]]:
    """Imports from a module of a lower layer to one of a higher layer: (importer, imported)."""
    def rank(module: str) -> int | None:
        return next((i for i, layer in enumerate(order) if module == layer or module.startswith(layer + ".")), None)

    out = []
    for importer in sorted(graph.modules):
        low = rank(importer)
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            high = rank(imported)
            if low is not None and high is not None and high < low:
                out.append((importer, imported))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 1 when there is a cycle (or, with --layers, an upward import)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", action="store_true", help="also check the layers contract of pyproject.toml")
    args = parser.parse_args(argv)
    graph = build_graph()
    sizes = module_lines(graph)
    print(f"{len(sizes)} modules, {sum(sizes.values()):,} lines; the largest:")
    for module, lines in sorted(sizes.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {lines:>6,}  {module}")
    found = cycles(graph)
    print(f"{len(found)} import cycle(s)" + (":" if found else ""))
    for group in found:
        print("  " + " ↔ ".join(group))
    bad = upward_imports(graph, layers()) if args.layers else []
    if args.layers:
        print(f"{len(bad)} upward import(s)" + (":" if bad else ""))
        for importer, imported in bad:
            print(f"  {importer} → {imported}")
    return 1 if found or bad else 0


if __name__ == "__main__":
    sys.exit(main())
