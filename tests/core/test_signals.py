"""SIGTERM and SIGHUP are handled like Ctrl-C, in a real process against a served emulator:
the error object names the request and how to resume, partial downloads are removed, the
journal row is ``interrupted``, and the exit code is 143 (TERM) or 129 (HUP)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genmedia_sandbox.pytest_plugin import sandbox_environment

SCHNELL = "fal-ai/flux/schnell"
SIGNALS = [pytest.param(signal.SIGTERM, 143, id="TERM"), pytest.param(signal.SIGHUP, 129, id="HUP")]


def start(server, tmp_path: Path, cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.update(sandbox_environment(server, tmp_path))
    return subprocess.Popen(
        [sys.executable, "-m", "genmedia", "--json", "--events", "run", SCHNELL, "--prompt", "x"]
        + list(args),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the signal reaches it alone
    )


def wait_submitted(proc: subprocess.Popen[str]) -> str:
    line = proc.stderr.readline()
    event = json.loads(line)
    assert event["event"] == "submitted", line
    return str(event["request_id"])


def error_object(stderr: str) -> dict:
    return json.loads(stderr.splitlines()[-1])  # --events: the error object is the last line


def journal_status(server, tmp_path: Path, request_id: str) -> str:
    env = dict(os.environ)
    env.update(sandbox_environment(server, tmp_path))
    shown = subprocess.run(
        [sys.executable, "-m", "genmedia", "--json", "history", "show", request_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    return str(json.loads(shown.stdout)["status"])


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_signal_while_waiting(fal_sandbox, tmp_path, signum, code):
    fal_sandbox.set_timing(SCHNELL, run_s=30)
    proc = start(fal_sandbox, tmp_path, tmp_path)
    rid = wait_submitted(proc)
    time.sleep(0.3)  # let it settle into waiting on the status stream
    os.killpg(proc.pid, signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    report = error_object(err)
    name = signal.Signals(signum).name
    assert report["error"] == f"Interrupted by {name}: request {rid} on {SCHNELL}"
    assert report["details"]["request_id"] == rid
    assert report["details"]["signal"] == name
    assert report["details"]["resume"] == f"genmedia status {SCHNELL} {rid} --wait"
    assert "Traceback" not in err and out == ""
    assert journal_status(fal_sandbox, tmp_path, rid) == "interrupted"
    assert not fal_sandbox.job(rid).cancelled


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_signal_while_downloading(fal_sandbox, tmp_path, signum, code):
    fal_sandbox.add_fault(role="queue", method="POST", kind="large_output", mib=4, count=1)
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="slow_body", bytes_per_s=20_000)
    work = tmp_path / "work"
    out = work / "out"
    out.mkdir(parents=True)
    proc = start(fal_sandbox, tmp_path, work, "--download", "out/")
    rid = wait_submitted(proc)
    deadline = time.monotonic() + 60
    while not any(out.iterdir()):  # a partial file exists: the download is under way
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.05)
    time.sleep(0.3)  # let some bytes arrive
    os.killpg(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    assert list(out.iterdir()) == []  # no partial file, no half-written final file
    assert stdout == ""
    report = error_object(stderr)
    assert report["details"]["request_id"] == rid
    assert report["details"]["signal"] == signal.Signals(signum).name
    assert f"genmedia status {SCHNELL} {rid}" in report["details"]["resume"]
    assert "Traceback" not in stderr
    # not left in_progress: `status REQUEST_ID --wait` finishes it
    assert journal_status(fal_sandbox, tmp_path, rid) == "interrupted"


@pytest.mark.timeout(60)
def test_keep_partial_keeps_the_part_on_sigterm(fal_sandbox, tmp_path):
    fal_sandbox.add_fault(role="queue", method="POST", kind="large_output", mib=2, count=1)
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="slow_body", bytes_per_s=200_000)
    work = tmp_path / "work"
    out = work / "out"
    out.mkdir(parents=True)
    proc = start(fal_sandbox, tmp_path, work, "--download", "out/", "--keep-partial")
    wait_submitted(proc)
    deadline = time.monotonic() + 60
    while not any(out.iterdir()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr
    kept = [p.name for p in out.iterdir()]
    assert any(".part" in name for name in kept), kept
