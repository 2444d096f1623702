"""``--download`` through the real CLI against the emulator: run, status, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import listing

SCHNELL = "fal-ai/flux/schnell"


def test_run_download_saves_every_image(cli, fal_sandbox_env, workdir):
    r = cli(
        "run", SCHNELL, "--prompt", "a cat", "--num_images", "3", "--download", "out/{index}.{ext}"
    )
    assert r.exit_code == 0, r
    doc = r.json
    assert listing(workdir) == ["out/0.jpg", "out/1.jpg", "out/2.jpg"]
    assert [f["json_path"] for f in doc["downloaded_files"]] == [
        "images[0]",
        "images[1]",
        "images[2]",
    ]
    for saved in doc["downloaded_files"]:
        data = Path(saved["path"]).read_bytes()
        assert data[:3] == b"\xff\xd8\xff" and len(data) == saved["size_bytes"]
        assert saved["content_type"] == "image/jpeg" and len(saved["sha256"]) == 64
    # the key went to the queue, never to the CDN
    queue = [q for q in fal_sandbox_env.requests if q.role == "queue"]
    cdn = [q for q in fal_sandbox_env.requests if q.role == "cdn" and q.method == "GET"]
    assert queue and all(q.has_authorization for q in queue)
    assert len(cdn) == 3 and not any(q.has_authorization for q in cdn)


def test_bare_download_flag_means_cwd(cli, fal_sandbox_env, workdir):
    r = cli("run", SCHNELL, "--prompt", "a cat", "--download")
    assert r.exit_code == 0, r
    [saved] = r.json["downloaded_files"]
    assert Path(saved["path"]).parent == workdir and Path(saved["path"]).is_file()


def test_run_with_a_failed_download_still_prints_the_result(cli, fal_sandbox_env, workdir):
    fal_sandbox_env.add_fault(role="cdn", path="/files/*", kind="status", code=404)
    r = cli("run", SCHNELL, "--prompt", "a cat", "--download", "out/")
    assert r.exit_code == 9
    doc = r.json
    assert doc["request_id"] and doc["result"]["images"]
    assert doc["downloaded_files"] == [] and doc["download_failures"][0]["error"] == "404 Not Found"
    assert listing(workdir) == []


def test_hostile_names_from_a_job(cli, fal_sandbox_env, workdir):
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="hostile_names", count=1)
    r = cli("run", SCHNELL, "--prompt", "a cat", "--num_images", "2", "--download", "out/")
    assert r.exit_code == 0, r
    names = [img["file_name"] for img in r.json["result"]["images"]]
    assert names[0].startswith("../")
    assert listing(workdir.parents[2]) == ["a/b/proj/out/x.jpg", "a/b/proj/out/x_1.jpg"]


def test_status_download_implies_result(cli, fal_sandbox_env, workdir):
    rid = cli("run", SCHNELL, "--prompt", "a cat").json["request_id"]
    assert listing(workdir) == []
    r = cli("status", SCHNELL, rid, "--download", "got/", "--sidecar")
    assert r.exit_code == 0, r
    doc = r.json
    assert doc["status"] == "completed" and doc["request_id"] == rid
    assert listing(workdir) == ["got/images.jpg", "got/images.jpg.json"]
    assert json.loads((workdir / "got" / "images.jpg.json").read_text())["request_id"] == rid
    bare = cli("status", SCHNELL, rid, "--download")
    assert bare.exit_code == 0 and (workdir / "images.jpg").is_file()


def test_status_download_with_cancel_is_a_usage_error(cli, fal_sandbox_env, workdir):
    r = cli("status", SCHNELL, "019a-some-id", "--cancel", "--download")
    assert r.exit_code == 2
    assert "--cancel cannot be combined with --download" in r.error["error"]
    assert not any(q.role == "queue" for q in fal_sandbox_env.requests)


def test_bad_template_is_rejected_before_paying(cli, fal_sandbox_env, workdir):
    r = cli("run", SCHNELL, "--prompt", "a cat", "--download", "out/{nme}.{ext}")
    assert r.exit_code == 2
    assert "{nme}" in r.stderr
    assert not any(q.role == "queue" for q in fal_sandbox_env.requests)


# --------------------------------------------------------------------------- Ctrl-C


def _start(args: list[str], server, tmp_path: Path, cwd: Path) -> subprocess.Popen[str]:
    from genmedia_sandbox.pytest_plugin import sandbox_environment

    env = dict(os.environ)
    env.update(sandbox_environment(server, tmp_path))
    return subprocess.Popen(
        [sys.executable, "-m", "genmedia", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the signal reaches it alone
    )


def _interrupt_when_downloading(
    proc: subprocess.Popen[str], out: Path, parts: int = 1
) -> tuple[str, str]:
    """SIGINT the process group once ``parts`` downloads are under way."""
    deadline = time.monotonic() + 30

    while len(list(out.glob("*.part"))) < parts:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.05)
    time.sleep(0.3)  # let some bytes arrive
    os.killpg(proc.pid, signal.SIGINT)
    return proc.communicate(timeout=20)


@pytest.mark.timeout(90)
def test_ctrl_c_during_slow_download_leaves_nothing(fal_sandbox, tmp_path, workdir):
    fal_sandbox.add_fault(role="queue", method="POST", kind="large_output", mib=4, count=1)
    # slow enough that even the small images are still arriving when Ctrl-C comes
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="slow_body", bytes_per_s=4000)
    out = workdir / "out"
    args = ["run", SCHNELL, "--prompt", "a cat", "--num_images", "3", "--download", "out/"]
    proc = _start(args, fal_sandbox, tmp_path, workdir)
    stdout, stderr = _interrupt_when_downloading(proc, out, parts=3)
    assert proc.returncode == 130, stderr
    assert listing(workdir) == []  # no .part, no final file, nothing half-written
    assert stdout == ""
    assert "Interrupted" in stderr and "genmedia status" in stderr  # how to fetch them again


@pytest.mark.timeout(90)
def test_ctrl_c_with_keep_partial_then_resume(fal_sandbox, cli, tmp_path, workdir, monkeypatch):
    fal_sandbox.add_fault(role="queue", method="POST", kind="large_output", mib=2, count=1)
    fault = fal_sandbox.add_fault(
        role="cdn", path="/files/*", kind="slow_body", bytes_per_s=200_000
    )
    out = workdir / "out"
    args = ["run", SCHNELL, "--prompt", "a cat", "--download", "out/", "--keep-partial"]
    proc = _start(args, fal_sandbox, tmp_path, workdir)
    _stdout, stderr = _interrupt_when_downloading(proc, out)
    assert proc.returncode == 130, stderr
    [part] = out.glob("images.jpg.*.part")  # a name private to that process and file
    assert listing(workdir) == [f"out/{part.name}", f"out/{part.name}.json"]
    size = part.stat().st_size
    assert 0 < size < 2 << 20

    fal_sandbox.clear_faults()
    assert fault.fired >= 1
    from genmedia_sandbox.pytest_plugin import sandbox_environment

    for name, value in sandbox_environment(fal_sandbox, tmp_path).items():
        monkeypatch.setenv(name, value)
    [job] = fal_sandbox.jobs
    before = len(fal_sandbox.requests)
    r = cli("status", SCHNELL, job.request_id, "--download", "out/", "--keep-partial")
    assert r.exit_code == 0, r
    gets = [q for q in fal_sandbox.requests[before:] if q.role == "cdn" and q.method == "GET"]
    assert [q.status_code for q in gets] == [206]
    [saved] = r.json["downloaded_files"]
    assert saved["size_bytes"] == 2 << 20 == Path(saved["path"]).stat().st_size
    assert listing(workdir) == ["out/images.jpg"]
