"""Meta-tests: the docs, the tests and the start-up path keep up with the code."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import genmedia.hookspecs as hookspecs
from tests.core.reference import render_reference

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name for name, obj in vars(hookspecs).items() if name.startswith("genmedia_") and callable(obj)
)


def test_there_are_hooks():
    assert len(HOOKS) >= 12


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook):
    docs = (ROOT / "docs" / "plugins" / "hooks.md").read_text(encoding="utf-8")
    assert re.search(rf"^## `?{hook}`?\s*$", docs, re.M), f"no '## {hook}' heading"
    signature = f"def {hook}{inspect.signature(getattr(hookspecs, hook))}".replace("'", "")
    assert signature in docs.replace("'", ""), f"signature not in docs: {signature}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    pattern = re.compile(rf"def test_hook_{hook}(\b|_)")
    sources = (p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    assert any(pattern.search(text) for text in sources), f"no test_hook_{hook} in tests/"


def _command_paths(node: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, sub in (node.get("commands") or {}).items():
        paths.append((*prefix, name))
        paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


def test_help_works_for_every_command(cli):
    tree = json.loads(cli("--help", "--json").stdout)
    paths = _command_paths(tree)
    assert len(paths) >= 7
    for path in paths:
        result = cli(*path, "--help")
        assert result.exit_code == 0, (path, result)
        assert "Usage:" in result.stdout, path


GUARD = r"""
import sys, io
from genmedia.cli import make_cli
sys.stdout = io.StringIO()
try:
    make_cli().main(["--help"])
except SystemExit:
    pass
sys.stdout = sys.__stdout__
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"httpx", "cattrs", "rich", "starlette", "uvicorn", "sqlite3"})
print(" ".join(heavy))
print("types" if "genmedia.types" in sys.modules else "")
"""


def test_help_imports_no_heavy_library():
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-c", GUARD], capture_output=True, text=True, env=env, check=True
    )
    heavy, types_line = (result.stdout.splitlines() + ["", ""])[:2]
    assert heavy == "", f"`genmedia --help` imported: {heavy}"
    assert types_line == "", "`genmedia --help` imported genmedia.types (attrs classes cost ~20 ms)"


def test_import_cli_alone_is_light():
    code = "import sys, genmedia.cli; print(sorted({'httpx','cattrs','rich','attrs'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_command_reference_is_current(cli):
    """docs/reference.md is generated from `genmedia --help --json`; regenerate with
    GENMEDIA_UPDATE_DOCS=1 pytest tests/core/test_meta.py -k reference."""
    # the reference documents genmedia itself: the cli fixture loads no entry points, so
    # third-party plugins installed beside it (the example, genmedia-s3) are left out
    tree = json.loads(cli("--help", "--json").stdout)
    text = render_reference(tree)
    path = ROOT / "docs" / "reference.md"
    if os.environ.get("GENMEDIA_UPDATE_DOCS"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, "docs/reference.md is stale (see docstring)"
