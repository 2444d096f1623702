"""No import circles between the modules of a package (issue 13, "no import circles").

The graph is read from the source with ``ast``: every ``import`` and ``from ... import``
that names a module of the same package, at module level or inside a function (a lazy
import still closes a circle at run time), except those under ``if TYPE_CHECKING:``,
which never run. A package ``__init__`` counts as the module named after the package; the packages
enclosing a module are loaded before it, so an import of one of them is no edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def plugin_packages() -> dict[str, Path]:
    """The plugin packages: ``plugins/genmedia_x`` (built-in) and ``plugins/genmedia-x/genmedia_x``
    (packaged separately)."""
    found = {}
    for path in sorted((ROOT / "plugins").iterdir()):
        candidates = [path] if (path / "__init__.py").is_file() else sorted(path.glob("*/"))
        for package in candidates:
            if package.name.startswith("genmedia_") and (package / "__init__.py").is_file():
                found[package.name] = package
    return found


PACKAGES = {"genmedia": ROOT / "core" / "genmedia", **plugin_packages()}


def module_files(name: str, root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.AST):
    """Every import node that can run: skips the body of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(name: str, root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports at run time."""
    modules = module_files(name, root)
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                # "from pkg import sub" imports the submodule pkg.sub; anything else, pkg
                names = [f"{base}.{alias.name}" for alias in node.names]
                targets = [name if name in modules else base for name in names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # a module's own packages are imported before it, never because of it
                if target and target != module and not module.startswith(target + "."):
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_package_is_checked():
    assert {"genmedia", "genmedia_fal", "genmedia_sandbox", "genmedia_s3"} <= set(PACKAGES)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_import_circle(package):
    assert cycles(import_graph(package, PACKAGES[package])) == []


def test_the_detector_finds_a_circle_and_skips_type_checking(tmp_path):
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("from . import a\n")
    (root / "a.py").write_text("from .sub.b import thing\n")
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "b.py").write_text("def f():\n    from ..c import x\n")
    (root / "c.py").write_text("import pkg.a\n")
    (root / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n"
    )
    (root / "e.py").write_text("from . import d\n")
    graph = import_graph("pkg", root)
    assert cycles(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert graph["pkg.d"] == set() and graph["pkg.e"] == {"pkg.d"}
    assert graph["pkg.sub.b"] == {"pkg.c"}  # the enclosing packages are no edge
