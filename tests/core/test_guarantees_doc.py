"""docs/guarantees.md names tests that exist: no promise without its proof."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tests_in(file: Path) -> set[str]:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_every_promise_names_existing_tests():
    text = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "tests/" in line]
    assert len(rows) >= 20
    for row in rows:
        proof = row.rstrip("|").rsplit("|", 1)[1]
        current: Path | None = None
        named = 0
        for token in re.findall(r"`([^`]+)`", proof):
            file, _, test = token.partition("::")
            if file:
                current = ROOT / file
                assert current.is_file(), token
            assert current is not None and test, f"{token}: name the test ({row})"
            assert test in _tests_in(current), token
            named += 1
        assert named, row
