"""The import graph of the project's modules (imports inside functions included): no cycle, no forbidden edge.

Layers, lowest first: the base every layer stands on (`qa.errors`, `qa.shared`), `embeddings` (models,
vectors), `qa` (the library), `archive_qa` (the command line, the evaluation and the bench), and the chat app
(`app.py` and its pages in `app_pages/`). A module may import only from its own layer or below; only the app
imports Streamlit.

Inside `qa`, the shared modules at its root (config, records, types, errors, shared, runtime) come first, then
four subpackages, each above the one before: `qa.corpus`, `qa.index`, `qa.answer`, `qa.chat`. Loading and searching
an index never import its build side (`qa.index.build`, `qa.index.reuse`), and neither does `qa.answer`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("qa", "embeddings", "archive_qa", "app_pages")
APP = ("app", "app_pages")
LIBRARY = ("qa", "embeddings")
BASE = ("qa.errors", "qa.shared")  # what every layer may import, embeddings included; they import nothing of ours
SUBPACKAGES = ("qa.corpus", "qa.index", "qa.answer", "qa.chat")  # lowest first
SHARED = ("qa", "qa.config", "qa.records", "qa.types", "qa.errors", "qa.shared", "qa.runtime")
BUILD_SIDE = ("qa.index.build", "qa.index.reuse")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    """Every module of the project by its dotted name."""
    paths = [p for package in PACKAGES for p in sorted((REPO / package).rglob("*.py"))] + [REPO / "app.py"]
    return {_module_name(p): p for p in paths}


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names one import statement reaches (`from a import b` reaches a.b, when it is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # a relative import: resolved against the importing module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _type_checking(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`): imports for type hints only, never run."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in these nodes, at any depth, except those only for type checking."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif _type_checking(node):
            yield from _import_nodes(node.orelse)
        else:
            yield from _import_nodes(ast.iter_child_nodes(node))


def _imports(module: str, path: Path) -> set[str]:
    """Every name a module imports when it runs, at any depth of its code (functions, classes, conditionals)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    return {name for node in _import_nodes([tree]) for name in _imported(node, module, is_package)}


def _project_target(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name is (its longest known prefix), or None for a third-party name."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, set[str]]]:
    """Each module with the project modules it imports ("project") and every top-level name it imports ("all")."""
    modules = _sources()
    result = {}
    for module, path in modules.items():
        names = _imports(module, path)
        project = {t for n in names if (t := _project_target(n, modules)) and t != module}
        result[module] = {"project": project, "all": names}
    return result


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _within(module: str, packages: tuple[str, ...] | str) -> bool:
    packages = (packages,) if isinstance(packages, str) else packages
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def _subpackage_level(module: str) -> int | None:
    """Which of qa's subpackages a module is in (0 for qa.corpus … 3 for qa.chat), or None."""
    return next((i for i, p in enumerate(SUBPACKAGES) if _within(module, p)), None)


def _forbidden(module: str, imported: str) -> str | None:
    """Why an import is not allowed, or None."""
    if imported.split(".")[0] == "streamlit" and not _within(module, APP):
        return "only the app imports Streamlit"
    if _within(module, LIBRARY) and imported.split(".")[0] == "argparse":
        return "the library does not parse command lines"
    if _within(module, LIBRARY) and _within(imported, ("archive_qa", *APP)):
        return "the library does not import the command line, the evaluation, the bench or the app"
    if _within(module, "embeddings") and _within(imported, "qa") and not _within(imported, BASE):
        return "embeddings is below qa (it may use only qa.errors and qa.shared)"
    if module in BASE and _within(imported, ("qa", "embeddings")):
        return "qa.errors and qa.shared are the base: they import nothing of the project"
    if module in SHARED and _within(imported, SUBPACKAGES):
        return "the shared modules at qa's root are below its subpackages"
    level = _subpackage_level(module)
    if level is not None and (above := _subpackage_level(imported)) is not None and above > level:
        return f"{SUBPACKAGES[level]} is below {SUBPACKAGES[above]}"
    if _within(imported, BUILD_SIDE) and not _within(module, BUILD_SIDE) and _within(module, ("qa.index", "qa.answer")):
        return "loading, searching and answering never import the index's build side"
    if _within(module, "archive_qa") and _within(imported, APP):
        return "the command line does not import the app"
    return None


def test_the_graph_sees_the_whole_project(graph):
    assert {"qa.index", "qa.index.build", "embeddings.model", "archive_qa.cli", "app", "app_pages.chat"} <= graph.keys()
    assert "qa.index.search" in graph["qa.index"]["project"]
    # an import inside a function counts: the command line imports the index only when a command runs
    assert "qa.index.build" in graph["archive_qa.cli"]["project"]


def test_no_import_cycle(graph):
    assert _cycles({m: g["project"] for m, g in graph.items()}) == []


def test_no_forbidden_import(graph):
    problems = [
        f"{module} imports {name}: {why}"
        for module, g in sorted(graph.items())
        for name in sorted(g["all"])
        if (why := _forbidden(module, name))
    ]
    assert problems == []


def test_the_checks_catch_what_they_are_for():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert _forbidden("qa.index", "archive_qa.evaluation.runner")
    assert _forbidden("qa.answer.assistant", "argparse")
    assert _forbidden("embeddings.model", "qa.config")
    assert _forbidden("embeddings.model", "qa.errors") is None
    assert _forbidden("qa.errors", "qa.records")
    assert _forbidden("qa.types", "qa.answer.sentences")
    assert _forbidden("qa.corpus.reader", "qa.index.lexical")
    assert _forbidden("qa.index.people", "qa.answer.forms")
    assert _forbidden("qa.answer.compose", "qa.chat.text")
    assert _forbidden("qa.chat.text", "qa.answer.sentences") is None
    assert _forbidden("qa.answer.assistant", "qa.index.build")
    assert _forbidden("qa.index.search", "qa.index.build")
    assert _forbidden("qa.index.build", "qa.index.search") is None
    assert _forbidden("qa.chat.conversations", "streamlit")
    assert _forbidden("archive_qa.cli", "streamlit")
    assert _forbidden("app", "streamlit") is None
    assert _forbidden("app_pages.chat", "streamlit") is None
    assert _forbidden("qa.chat.text", "app_pages.common")
    assert _forbidden("archive_qa.cli", "qa.index") is None
    hidden = "def f():\n    import a.b\nif TYPE_CHECKING:\n    import c\nelse:\n    import d\n"
    assert [n.names[0].name for n in _import_nodes([ast.parse(hidden)])] == ["a.b", "d"]
    relative = ast.parse("from .errors import X\nfrom . import steps").body
    errors = ["archive_qa.bench.errors", "archive_qa.bench.errors.X"]
    assert _imported(relative[0], "archive_qa.bench.command", False) == errors
    assert _imported(relative[1], "archive_qa.bench", True) == ["archive_qa.bench", "archive_qa.bench.steps"]
