"""Ctrl-C in the middle of a multipart upload: the upload is aborted, no object remains,
and the error says how to save the outputs again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest


@pytest.mark.timeout(90)
def test_ctrl_c_mid_upload_aborts_and_leaves_no_object(fal_sandbox, s3, tmp_path):
    from genmedia_sandbox.pytest_plugin import sandbox_environment

    fal_sandbox.add_fault(role="queue", method="POST", kind="large_output", mib=12, count=1)
    # slow enough that the upload is still open when Ctrl-C comes
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="slow_body", bytes_per_s=2_000_000)
    env = dict(os.environ)
    env.update(sandbox_environment(fal_sandbox, tmp_path))
    target = f"s3://{s3.bucket}/int/{{index}}.{{ext}}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "genmedia", "run", "fal-ai/flux/schnell", "--prompt", "x",
         "--save-to", target, "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not s3.open_uploads():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the multipart upload never started"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stdout == ""
    assert "--save-to" in stderr and "genmedia status" in stderr  # how to save them again
    assert s3.keys() == []
    assert s3.open_uploads() == []
