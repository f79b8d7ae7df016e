"""The package's import graph: no cycles, and layers that call only downward (scripts/imports.py, grimp, SciPy)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[1]


def load_imports_script():
    spec = importlib.util.spec_from_file_location("imports_script", ROOT / "scripts" / "imports.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["imports_script"] = module
    spec.loader.exec_module(module)
    return module


def test_no_import_cycles():
    imports = load_imports_script()
    graph = imports.build_graph()
    assert imports.cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    """The check itself, on a made-up graph: a ↔ b is a cycle, c alone is not."""
    imports = load_imports_script()

    class Graph:
        modules: ClassVar[set[str]] = {"a", "b", "c"}

        @staticmethod
        def find_modules_directly_imported_by(module):
            return {"a": {"b"}, "b": {"a", "c"}, "c": set()}[module]

    assert imports.cycles(Graph()) == [["a", "b"]]


def test_layers_call_only_downward():
    """No module imports from a layer above its own (the layers contract of pyproject.toml)."""
    imports = load_imports_script()
    layers = imports.layers()
    assert layers[0] == "landkit.cli" and layers[-1] == "landkit.core"
    assert imports.upward_imports(imports.build_graph(), layers) == []


def test_every_module_sits_in_a_layer():
    """Each module of the package belongs to one layer of the contract (a new package must be placed)."""
    imports = load_imports_script()
    layers = imports.layers()
    unplaced = [m for m in imports.build_graph().modules
                if m != "landkit" and not any(m == layer or m.startswith(layer + ".") for layer in layers)]
    assert unplaced == []


def test_the_layer_check_finds_an_upward_import():
    """The check itself, on a made-up graph: core importing cli goes up, cli importing core does not."""
    imports = load_imports_script()

    class Graph:
        modules = frozenset({"landkit.cli.main", "landkit.core.errors"})

        @staticmethod
        def find_modules_directly_imported_by(module):
            return {"landkit.cli.main": {"landkit.core.errors"}, "landkit.core.errors": {"landkit.cli.main"}}[module]

    assert imports.upward_imports(Graph(), ["landkit.cli", "landkit.core"]) == [("landkit.core.errors", "landkit.cli.main")]
