"""Shared fixtures: an isolated environment per test and a CLI runner.

The fal emulator fixtures (``fal_sandbox``, ``fal_sandbox_env``, ``fresh_fal_sandbox``,
``fal_sandbox_server``) come from the sandbox plugin's pytest plugin, the same way a
third-party plugin author would use them.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from genmedia.cli import make_cli
from genmedia.testing import InvokeResult

# TEMPORARY guard while the emulator is being written (the lead removes it).
pytest_plugins = (
    ["genmedia_sandbox.pytest_plugin"]
    if importlib.util.find_spec("genmedia_sandbox.pytest_plugin")
    else []
)

ISOLATED_VARS = (
    "FAL_KEY",
    "FAL_KEY_ID",
    "FAL_KEY_SECRET",
    "GENMEDIA_SANDBOX",
    "GENMEDIA_OUTPUT",
    "GENMEDIA_DISABLE_PLUGINS",
    "GENMEDIA_NO_PLUGIN_AUTOLOAD",
    "GENMEDIA_LOAD_DOTENV",
    "GENMEDIA_NO_HISTORY",
    "GENMEDIA_SANDBOX_FAULTS",
    "GENMEDIA_SANDBOX_RESULT_TTL",
    "GENMEDIA_SANDBOX_TOKEN_TTL",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own GENMEDIA_HOME and no fal credentials or host overrides."""
    for name in list(os.environ):
        if name in ISOLATED_VARS or (name.startswith("GENMEDIA_FAL_") and name.endswith("_URL")):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "genmedia-home"
    monkeypatch.setenv("GENMEDIA_HOME", str(home))
    # the sandbox's persistent state (jobs, files, assets of --sandbox) is per test too
    monkeypatch.setenv("GENMEDIA_SANDBOX_HOME", str(tmp_path / "sandbox-home"))
    return home


#: The result of an in-process invocation (``.exit_code``, ``.stdout``, ``.stderr``,
#: ``.json``, ``.error``): the same class plugin authors get from ``genmedia.testing``.
CliResult = InvokeResult


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run genmedia in-process with click's runner: ``cli("run", "x", "--json")``."""

    def invoke(
        *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        runner = CliRunner()
        result: Result = runner.invoke(make_cli(), list(args), input=input, env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return InvokeResult(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def run_genmedia() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run genmedia as a real subprocess (``python -m genmedia``) with the test's environment."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "genmedia", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            **kw,
        )

    return run


@pytest.fixture
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
