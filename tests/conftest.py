"""Shared fixtures: an isolated environment per test and a CLI runner.

The fal emulator fixtures (``fal_sandbox``, ``fal_sandbox_env``, ``fresh_fal_sandbox``,
``fal_sandbox_server``) come from the sandbox plugin's pytest plugin, the same way a
third-party plugin author would use them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from genmedia.cli import make_cli
from genmedia.context import AppContext
from genmedia.testing import InvokeResult

# A shell starting a background job (`cmd &` without job control, as a CI runner may) makes
# it ignore SIGINT, and an ignored signal stays ignored in every child: the Ctrl-C tests'
# genmedia processes would never see their SIGINT. Python's own handler is reset to the
# default in children, so installing it here gives them a normal Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

pytest_plugins = ["genmedia_sandbox.pytest_plugin"]

# The processes the tests start (`python -m genmedia …`, several hundred) reuse compiled
# bytecode: with PYTHONDONTWRITEBYTECODE set (some CI images and dev machines set it), each
# would compile genmedia's sources again, ~0.15 s of CPU apiece. The cache lives outside
# the repository, so the reason for that setting (no __pycache__ in the tree) still holds.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) and not os.environ.get("PYTHONPYCACHEPREFIX"):
    os.environ["PYTHONPYCACHEPREFIX"] = os.path.join(
        tempfile.gettempdir(), f"genmedia-tests-pycache-{os.getuid()}"
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
    "GENMEDIA_CACHE_DIR",
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
    # retries happen at once: the delays are still computed, reported and budgeted
    # (tests of back-off and Retry-After assert the computed delay, never the clock)
    monkeypatch.setenv("GENMEDIA_RETRY_DELAY_SCALE", "0")
    # the redactor is process-wide: a key registered by an earlier test in this worker
    # would mask its words in this one's output (a real process starts empty)
    from genmedia.redact import clear

    clear()
    return home


def check_stderr_contract(
    exit_code: int, stdout: str, stderr: str, *, events: bool, where: str = ""
) -> None:
    """The agent contract for one JSON-mode invocation: stderr is empty on success and
    exactly one JSON error object on failure; with ``--events`` every line is one JSON
    object, events first, the error object (if any) last."""
    label = f"{where}: stderr breaks the JSON-mode contract:\n{stderr}"
    if events:
        lines = [json.loads(line) for line in stderr.splitlines()]
        assert all(isinstance(obj, dict) for obj in lines), label
        errors_ = [obj for obj in lines if "event" not in obj]
        assert len(errors_) <= 1, label
        if errors_:
            assert lines[-1] is errors_[0] and set(errors_[0]) <= {"error", "details"}, label
        error = errors_[0] if errors_ else None
    elif stderr:
        error = json.loads(stderr)
        assert isinstance(error, dict) and "error" in error, label
        assert set(error) <= {"error", "details"}, label
    else:
        error = None
    if exit_code == 0:
        assert error is None, label
    elif not stdout.strip():
        # a failure with no document on stdout must say why (exit 9 and sink codes print
        # the full document on stdout instead)
        assert error is not None, label


@pytest.fixture(autouse=True)
def stderr_contract(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Suite-wide: every in-process CLI invocation in JSON mode (``cli``, ``invoke``,
    ``genmedia.testing.invoke``: all go through click's runner) keeps the stderr contract."""
    from genmedia.context import AppContext

    seen: list[tuple[bool, bool, bool]] = []  # (json_mode, events, prompted) at close
    real_close = AppContext.close
    real_invoke = CliRunner.invoke

    def close(self: AppContext) -> None:
        seen.append((self.json_mode, self.events, self.prompted))
        real_close(self)

    def invoke(self: CliRunner, *args: Any, **kwargs: Any) -> Result:
        seen.clear()
        result = real_invoke(self, *args, **kwargs)
        # an interactive prompt (setup, a delete confirmation) is a conversation with a
        # person on stderr, not output for a program: exempt
        if seen and seen[-1][0] and not seen[-1][2]:
            check_stderr_contract(
                result.exit_code,
                result.stdout,
                result.stderr,
                events=seen[-1][1],
                where=" ".join(map(str, args[1] if len(args) > 1 else kwargs.get("args", []))),
            )
        return result

    monkeypatch.setattr(AppContext, "close", close)
    monkeypatch.setattr(CliRunner, "invoke", invoke)
    yield


#: The result of an in-process invocation (``.exit_code``, ``.stdout``, ``.stderr``,
#: ``.json``, ``.error``): the same class plugin authors get from ``genmedia.testing``.
CliResult = InvokeResult


def _cli(autoload: bool | None) -> Callable[..., CliResult]:
    def invoke(
        *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        runner = CliRunner()
        result: Result = runner.invoke(
            make_cli(), list(args), input=input, env=env, obj=AppContext(autoload=autoload)
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return InvokeResult(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run genmedia in-process with click's runner: ``cli("run", "x", "--json")``.

    Each call gets a fresh plugin manager with the core and the built-ins only: entry
    points (the example plugin, genmedia-s3 …) are not loaded (autoload off)."""
    return _cli(autoload=False)


@pytest.fixture
def cli_entry_points() -> Callable[..., CliResult]:
    """Like ``cli``, loading entry points as a user's genmedia does (plugin-loading tests)."""
    return _cli(autoload=None)


@pytest.fixture
def run_genmedia() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run genmedia as a real subprocess (``python -m genmedia``) with the test's environment."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "genmedia", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            **kw,
        )
        head = list(args[: args.index("--")] if "--" in args else args)
        # stdout is a pipe: JSON mode unless told otherwise
        if full_env.get("GENMEDIA_OUTPUT", "").lower() not in ("pretty", "standard"):
            check_stderr_contract(
                done.returncode,
                done.stdout,
                done.stderr,
                events="--events" in head,
                where=" ".join(args),
            )
        return done

    return run


@pytest.fixture
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield work
