"""What a ``genmedia --sandbox`` command pays for its in-process emulator (issue 14, item 8).

The Platform API fidelity check (openapi-core, ~0.5 s to import and build) runs only where
a test harness reads it; a user's ``--sandbox`` command skips it. Behaviour (persistence,
concurrency, faults) is covered by test_persistence.py and test_faults.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from genmedia_sandbox.plugin import validates_platform

SCHNELL = "fal-ai/flux/schnell"

PROBE = """
import json, sys
from genmedia.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in ("openapi_core", "pydantic", "pydantic_settings") if m in sys.modules)
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def probe(tmp_path, *args: str, **env: str) -> dict:
    full = {**os.environ, **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
        cwd=tmp_path,
    )
    found = json.loads(done.stderr.strip().splitlines()[-1])
    assert found["code"] in (0, None), done.stderr
    return found


def test_a_user_sandbox_command_skips_the_fidelity_check(tmp_path):
    """Schema fetch (``run ENDPOINT --help``) and a whole run: the /api/v1 traffic is not
    validated (openapi-core never imported) and nothing loads pydantic."""
    assert probe(tmp_path, "--sandbox", "run", SCHNELL, "--help")["loaded"] == []
    assert probe(tmp_path, "--sandbox", "run", SCHNELL, "--prompt", "x", "--json")["loaded"] == []


def test_the_fidelity_check_can_be_asked_for(tmp_path):
    found = probe(tmp_path, "--sandbox", "run", SCHNELL, "--help", GENMEDIA_SANDBOX_VALIDATE="1")
    assert "openapi_core" in found["loaded"]


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, True), ("1", True), ("0", False), ("off", False)]
)
def test_under_pytest_the_in_process_emulator_validates(monkeypatch, raw, expected):
    """This process loaded genmedia_sandbox.pytest_plugin: validation is on unless turned
    off, so the suite's guard still fails a test on non-conforming /api/v1 traffic."""
    if raw is None:
        monkeypatch.delenv("GENMEDIA_SANDBOX_VALIDATE", raising=False)
    else:
        monkeypatch.setenv("GENMEDIA_SANDBOX_VALIDATE", raw)
    assert validates_platform() is expected


def test_the_in_process_emulator_of_a_test_validates(cli):
    from genmedia_sandbox.plugin import in_process_server

    result = cli("--sandbox", "models", "--json")
    assert result.exit_code == 0, result
    assert in_process_server().sandbox.validate_platform is True
