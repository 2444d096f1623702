"""The import rules of the layout: no plugin imports another, the core imports no plugin."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from genmedia.provider import MEMBERS

ROOT = Path(__file__).resolve().parents[2]
LAZY_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if p.name.startswith("genmedia_"))


def imported_packages(package: Path) -> dict[str, set[str]]:
    """Top-level package names imported anywhere under ``package`` (TYPE_CHECKING too)."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                # LazyCommand targets ("pkg.module:attr") are imports made later
                names = [node.value.split(":")[0]] if LAZY_TARGET.match(node.value) else []
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_plugins_are_found():
    assert "genmedia_fal" in PLUGINS and len(PLUGINS) >= 5


def test_no_plugin_imports_another():
    for plugin in PLUGINS:
        imports = imported_packages(ROOT / "plugins" / plugin)
        others = {name: files for name, files in imports.items() if name in PLUGINS}
        others.pop(plugin, None)
        assert others == {}, f"{plugin} imports another plugin: {others}"


def test_the_core_imports_no_plugin():
    imports = imported_packages(ROOT / "core" / "genmedia")
    assert {name: files for name, files in imports.items() if name in PLUGINS} == {}


def python_files() -> list[Path]:
    """Every module of the core and of the plugins (the separately packaged ones too)."""
    return sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")])


def test_no_private_name_of_the_core_is_imported_elsewhere():
    """What one core module shares with another (or with plugins) is public: a private
    ``_name`` of ``genmedia.x`` is imported nowhere but where it is defined."""
    found = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                continue
            if node.module.split(".")[0] != "genmedia":
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}")
    assert found == []


#: the Provider contract's methods (its members but the data attributes): called directly
PROVIDER_METHODS = set(MEMBERS) - {"name", "schemes", "catch_all", "options"}


def test_no_getattr_probe_of_a_provider_method():
    """The core and plugins call provider members directly, never ``getattr(provider,
    "estimate", None)``: every registered provider has every member."""
    found = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ("getattr", "hasattr") or len(node.args) < 2:
                continue
            name = node.args[1]
            if isinstance(name, ast.Constant) and name.value in PROVIDER_METHODS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert found == []
