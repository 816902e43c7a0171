"""The import graph: a closed engine, the domain on its public surface, no cycles.

Imports inside functions count like module-level ones: hiding an import in a function does not
remove the dependency, it only moves the failure to run time.
"""

from pathlib import Path

import pytest

from tests.architecture.imports import Import, cycles, imports

ROOT = Path(__file__).resolve().parents[2]
ENGINE = "sagaops"
DOMAIN = ("orders", "payments", "inventory")
OUTSIDE_THE_ENGINE = (*DOMAIN, "bench", "project", "tests")
# The engine's public surface for the domain apps: saga definitions, the event bus and flows, the
# public module of the API, starting a saga and its exceptions, the participant boundary.
PUBLIC = {
    "sagaops.definitions",
    "sagaops.children",  # ChildSaga, a step of the DSL
    "sagaops.choreography.bus",
    "sagaops.choreography.flows",
    "sagaops.api.public",
    "sagaops.services",
    "sagaops.exceptions",
    "sagaops.faults",
}


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return imports(ROOT, [ENGINE, *DOMAIN, "bench", "project"])


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_engine_imports_no_domain_app_nor_the_harness(graph):
    leaks = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in graph
        if _top(i.source) == ENGINE and _top(i.target) in OUTSIDE_THE_ENGINE
    ]
    assert leaks == []


def test_domain_apps_use_only_the_public_surface(graph):
    internal = [
        f"{i.source}:{i.line} imports {i.target}"
        for i in graph
        if _top(i.source) in DOMAIN and _top(i.target) == ENGINE and i.target not in PUBLIC
    ]
    assert internal == []


def test_there_are_no_import_cycles(graph):
    assert cycles(graph) == []


def test_the_graph_sees_imports_inside_functions(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def late():\n    from pkg.a import x\n")
    edges = imports(tmp_path, ["pkg"])
    assert Import("pkg.b", "pkg.a", 2, in_function=True) in edges
    assert cycles(edges) == [["pkg.a", "pkg.b"]]
