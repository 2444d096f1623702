"""Ctrl-C in a real process: the request id and the resume command are printed, exit 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from genmedia_sandbox.pytest_plugin import sandbox_environment

SCHNELL = "fal-ai/flux/schnell"


def start(server, tmp_path, *args):
    env = dict(os.environ)
    env.update(sandbox_environment(server, tmp_path))
    return subprocess.Popen(
        [sys.executable, "-m", "genmedia", "run", SCHNELL, "--prompt", "x", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )


def wait_submitted(proc) -> str:
    line = proc.stderr.readline()
    event = json.loads(line)
    assert event["event"] == "submitted", line
    return event["request_id"]


@pytest.mark.timeout(60)
def test_ctrl_c_prints_the_request_id_and_exits_130(fal_sandbox, tmp_path):
    fal_sandbox.set_timing(SCHNELL, run_s=30)
    proc = start(fal_sandbox, tmp_path, "--events")
    rid = wait_submitted(proc)
    time.sleep(0.3)  # let it settle into waiting on the status stream
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    report = json.loads(err.splitlines()[-1])  # --events: the error object is the last line
    assert report["error"] == f"Interrupted: request {rid} on {SCHNELL}"
    assert report["details"]["request_id"] == rid
    assert report["details"]["resume"] == f"genmedia status {SCHNELL} {rid} --wait"
    assert report["details"]["next"] == report["details"]["resume"]
    assert "Traceback" not in err and out == ""
    job = fal_sandbox.job(rid)
    assert job is not None and not job.cancelled


@pytest.mark.timeout(60)
def test_ctrl_c_with_cancel_on_interrupt_cancels_first(fal_sandbox, tmp_path):
    fal_sandbox.set_timing(SCHNELL, run_s=30)
    proc = start(fal_sandbox, tmp_path, "--cancel-on-interrupt", "--events")
    rid = wait_submitted(proc)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    report = json.loads(err.splitlines()[-1])
    assert report["details"]["request_id"] == rid
    assert report["details"]["cancel"] == "CANCELLATION_REQUESTED"
    assert "final_status" in report["details"]
    assert fal_sandbox.job(rid).cancelled


@pytest.mark.timeout(60)
def test_ctrl_c_without_events_leaves_one_json_document_on_stderr(fal_sandbox, tmp_path):
    fal_sandbox.set_timing(SCHNELL, run_s=30)
    proc = start(fal_sandbox, tmp_path)
    deadline = time.monotonic() + 20
    while not fal_sandbox.jobs and time.monotonic() < deadline:
        time.sleep(0.05)
    (job,) = fal_sandbox.jobs
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    report = json.loads(err)  # the whole of stderr is the error object
    assert report["details"]["request_id"] == job.request_id
    assert report["details"]["next"] == f"genmedia status {SCHNELL} {job.request_id} --wait"
    assert out == ""
