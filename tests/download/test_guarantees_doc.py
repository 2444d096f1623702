"""docs/download.md's "Guarantees" table names tests that exist (no promise without proof)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _tests_in(file: Path) -> set[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_every_named_test_exists():
    text = (ROOT / "docs" / "download.md").read_text(encoding="utf-8")
    section = text.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) >= 10
    for row in rows:
        proof = row.rstrip("|").rsplit("|", 1)[1]
        current = None
        named = 0
        for token in re.findall(r"`([^`]+)`", proof):
            file, _, test = token.partition("::")
            if file.endswith(".py"):
                current = HERE / file
                assert current.is_file(), token
                named += 1
            if test or not file.endswith(".py"):
                assert current is not None, row
                assert (test or file) in _tests_in(current), token
                named += 1
        assert named, row
