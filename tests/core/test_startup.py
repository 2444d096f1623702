"""What `genmedia --help` and `--version` leave out (issue 14, start-up), and the per-
environment entry-point cache. Timing lives in bench/startup.py; these tests pin the
mechanisms that keep start-up near the click + pluggy floor."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from genmedia import entrypoints
from genmedia.terminal import help_width

PROBE = r"""
import sys, io
from genmedia.cli import make_cli
sys.stdout = io.StringIO()
try:
    make_cli().main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout = sys.__stdout__
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in {
    "shutil", "pathlib", "json", "importlib.metadata", "zipfile", "sqlite3", "hashlib",
} or m == "importlib.metadata" or m.startswith("genmedia_"))))
"""


def imported_by(*args: str) -> set[str]:
    env = {**os.environ, "GENMEDIA_NO_PLUGIN_AUTOLOAD": "1"}  # the cache is tested below
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, check=True
    )
    return set(out.stdout.split())


def test_help_imports_neither_shutil_nor_pathlib_nor_json():
    loaded = imported_by("--help")
    assert "genmedia_sandbox.plugin" in loaded  # the plugins were loaded (commands listed)
    assert not loaded & {"shutil", "pathlib", "json", "zipfile", "importlib.metadata"}, loaded


def test_version_loads_no_plugin():
    assert not {m for m in imported_by("--version") if m.startswith("genmedia_")}


@pytest.mark.parametrize(
    ("columns", "width"), [("120", 98), ("60", 58), ("30", 50), ("", 78), ("junk", 78)]
)
def test_help_width_follows_click_and_shutil(monkeypatch, columns, width):
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(sys, "__stdout__", None)  # not a terminal: shutil's fallback, 80
    assert help_width(100) == width


def test_help_is_wrapped_to_the_columns(run_genmedia):
    wide = run_genmedia("--help", env={"COLUMNS": "200"}).stdout
    narrow = run_genmedia("--help", env={"COLUMNS": "60"}).stdout
    assert max(map(len, narrow.splitlines())) <= 58 < max(map(len, wide.splitlines())) <= 98


def test_click_s_test_runner_still_forces_its_width(cli):
    """CliRunner wraps at 80 whatever the terminal: help in tests stays reproducible."""
    assert max(map(len, cli("--help", env={"COLUMNS": "200"}).stdout.splitlines())) <= 80


def test_each_environment_has_its_own_entry_point_cache():
    """Several environments sharing a home (a project venv, pipx, CI jobs) must not evict
    each other's entry-point cache on every start."""
    assert entrypoints._fnv1a("") == "811c9dc5" and entrypoints._fnv1a("a") == "e40c292c"
    assert entrypoints.CACHE_NAME.endswith(f"-{entrypoints._fnv1a(sys.prefix)}.marshal")
    assert entrypoints._fnv1a("/opt/venv-a") != entrypoints._fnv1a("/opt/venv-b")
