"""pytest fixtures for testing against the fal emulator (usable by any genmedia plugin author).

Enable with ``pytest_plugins = ["genmedia_sandbox.pytest_plugin"]`` in a root conftest.py.

Fixtures:

- ``fal_sandbox_server`` (session): one emulator for the whole run (queue and run time 0).
- ``fal_sandbox`` (function): that server, reset before the test (no faults, jobs, files,
  assets or log; timings 0).
- ``fal_sandbox_env`` (function): ``fal_sandbox`` plus an environment pointing genmedia at it
  (``GENMEDIA_FAL_*_URL``, ``FAL_KEY=sandbox-test-key``) and ``GENMEDIA_HOME``/``XDG_*``
  under ``tmp_path`` so no user file is touched. Returns the server.
- ``fresh_fal_sandbox`` (function): a private emulator for this test only.

Platform API validation: every request the emulator receives on ``/api/v1`` and every
response it sends is validated against fal's platform-openapi.json. A test during which
*any* running emulator in this process (fixtures, or one started in-process by
``genmedia --sandbox``) recorded a validation failure fails at teardown. A test that sends
non-conforming requests on purpose can opt out with
``@pytest.mark.fal_sandbox_allow_invalid``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .server import LIVE, SandboxServer, start_sandbox

ALLOW_MARK = "fal_sandbox_allow_invalid"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARK}: do not fail the test when the fal sandbox records Platform API "
        "validation failures (for tests that send invalid requests on purpose)",
    )


def _reset_for_test(server: SandboxServer) -> SandboxServer:
    server.reset()
    server.set_timing(None, queue_s=0.0, run_s=0.0, concurrency=None)
    return server


@pytest.fixture(scope="session")
def fal_sandbox_server() -> Iterator[SandboxServer]:
    """One emulator for the whole session (queue and run time 0)."""
    server = start_sandbox(queue_s=0.0, run_s=0.0, warm_validator=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fal_sandbox(fal_sandbox_server: SandboxServer) -> SandboxServer:
    """The session emulator, reset before this test."""
    return _reset_for_test(fal_sandbox_server)


@pytest.fixture
def fal_sandbox_env(
    fal_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> SandboxServer:
    """``fal_sandbox`` plus env vars pointing genmedia at it and an isolated home."""
    for name, value in sandbox_environment(fal_sandbox, tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GENMEDIA_SANDBOX", raising=False)
    monkeypatch.delenv("GENMEDIA_SANDBOX_FAULTS", raising=False)
    return fal_sandbox


def sandbox_environment(server: SandboxServer, home: Path) -> dict[str, str]:
    """The environment ``fal_sandbox_env`` installs (useful for subprocess tests)."""
    env = dict(server.env())
    env["FAL_KEY"] = "sandbox-test-key"
    env["GENMEDIA_HOME"] = str(home / "genmedia-home")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    return env


@pytest.fixture
def fresh_fal_sandbox() -> Iterator[SandboxServer]:
    """A private emulator for this test (stopped afterwards)."""
    server = start_sandbox(queue_s=0.0, run_s=0.0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _fal_sandbox_validation_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if any emulator recorded Platform API validation failures during it."""
    before = {id(s): s.validation_issue_total for s in list(LIVE)}
    yield
    if request.node.get_closest_marker(ALLOW_MARK) is not None:
        return
    problems: list[Any] = []
    for server in list(LIVE):
        new = server.validation_issue_total - before.get(id(server), 0)
        if new > 0:
            problems.extend(server.validation_errors[-new:])
    if problems:
        lines = "\n".join(
            f"  {p.direction} {p.method} {p.path} -> {p.status_code}: {p.message}" for p in problems
        )
        pytest.fail(
            "the fal sandbox saw traffic that does not conform to platform-openapi.json:\n" + lines,
            pytrace=False,
        )
