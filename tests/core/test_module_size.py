"""No module over 400 lines (issue 13, "Size"): small files read top-down."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400


def too_long(root: Path) -> dict[str, int]:
    """Modules under ``root`` longer than :data:`LIMIT` lines, with their length."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > LIMIT:
            found[str(path.relative_to(ROOT))] = lines
    return found


def test_no_plugin_module_is_over_the_limit():
    assert too_long(ROOT / "plugins") == {}


def test_no_core_module_is_over_the_limit():
    assert too_long(ROOT / "core") == {}
