"""The package's import graph has no cycles (scripts/imports.py, grimp's graph and SciPy's components)."""

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
