"""The journal end to end: real genmedia processes against the fal emulator.

The emulator holds a job in its queue with ``concurrency=0`` on the endpoint; ``release``
lets it run. Every check of the journal is made from another process than the one that
submitted the job (the test process reading SQLite, or another ``genmedia`` process).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ENDPOINT = "fal-ai/flux/schnell"

pytestmark = pytest.mark.timeout(120)


def wait_for(check: Callable[[], Any], *, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def hold(server: Any, endpoint: str = ENDPOINT) -> None:
    """Keep new jobs of ``endpoint`` IN_QUEUE until :func:`release`."""
    server.set_timing(endpoint, concurrency=0)


def release(server: Any, cli: Any, endpoint: str = ENDPOINT) -> None:
    """Let held jobs run. A new submission makes the emulator look at its queue again."""
    server.set_timing(endpoint, concurrency=None)
    kick = cli("run", endpoint, "--prompt", "kick", "--async", "--no-history")
    assert kick.exit_code == 0, kick


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "genmedia", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_row_exists_while_the_emulator_holds_the_job(fal_sandbox_env, run_genmedia, rows) -> None:
    hold(fal_sandbox_env)
    submitted = run_genmedia("run", ENDPOINT, "--prompt", "a lighthouse at dusk", "--async")
    assert submitted.returncode == 0, submitted.stderr
    rid = json.loads(submitted.stdout)["request_id"]

    listed = run_genmedia("history", "list", "--json")  # a second genmedia process
    assert listed.returncode == 0, listed.stderr
    (job,) = json.loads(listed.stdout)["jobs"]
    assert fal_sandbox_env.job(rid).status == "IN_QUEUE"  # the host still holds it
    assert job["request_id"] == rid and job["endpoint_id"] == ENDPOINT
    assert job["status"] == "pending" and job["provider"] == "fal"
    assert job["resume"] == f"genmedia status {rid} --wait"
    (row,) = rows()
    assert json.loads(row["input"])["prompt"] == "a lighthouse at dusk"
    assert rid in json.loads(row["handle_extra"])["status_url"]
    assert row["submitted_at"] <= time.time()


def test_kill_9_then_status_last_wait_download_finishes_the_job(
    fal_sandbox_env, run_genmedia, rows, cli, tmp_path
) -> None:
    server = fal_sandbox_env
    hold(server)
    inputs = tmp_path / "input.json"
    inputs.write_text(json.dumps({"prompt": "a red lighthouse", "num_images": 2}))
    proc = spawn(
        "run", ENDPOINT, "--input", str(inputs), "--download", str(tmp_path / "never") + "/"
    )
    try:
        # the waiting CLI has recorded the job and seen it queued; the emulator holds it
        row = wait_for(
            lambda: [r for r in rows() if r["status"] == "in_queue"], what="the journal row"
        )[0]
        assert proc.poll() is None
        assert server.job(row["request_id"]).status == "IN_QUEUE"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    rid = row["request_id"]

    pending = run_genmedia("history", "list", "--status", "pending", "--json")
    assert [j["request_id"] for j in json.loads(pending.stdout)["jobs"]] == [rid]

    release(server, cli)
    out = tmp_path / "out"
    done = run_genmedia("status", "last", "--wait", "--download", str(out) + "/", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["request_id"] == rid and doc["status"] == "completed"
    saved = [Path(f["path"]) for f in doc["downloaded_files"]]
    assert len(saved) == 2 and all(p.is_file() and p.parent == out for p in saved)

    (row,) = rows()
    assert row["status"] == "completed" and row["completed_at"] is not None
    assert json.loads(row["result"]) == doc["result"]
    shown = json.loads(run_genmedia("history", "show", rid, "--json").stdout)
    assert {f["path"]: f["sha256"] for f in shown["files"]} == {
        str(p.resolve()): sha256(p) for p in saved
    }
    after = run_genmedia("history", "--status", "pending", "--json")
    assert json.loads(after.stdout)["jobs"] == []
    assert not (tmp_path / "never").exists()


def test_two_concurrent_runs_are_both_recorded(fal_sandbox_env, rows, cli) -> None:
    hold(fal_sandbox_env)
    procs = [spawn("run", ENDPOINT, "--prompt", f"concurrent {i}") for i in range(2)]
    try:
        wait_for(lambda: len(rows()) == 2, what="both rows")
        assert {r["status"] for r in rows()} <= {"pending", "in_queue"}
        release(fal_sandbox_env, cli)
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert [p.returncode for p in procs] == [0, 0], outputs
    ids = {json.loads(out)["request_id"] for out, _err in outputs}
    recorded = rows()
    assert {r["request_id"] for r in recorded} == ids
    assert {r["prompt"] for r in recorded} == {"concurrent 0", "concurrent 1"}
    assert {r["status"] for r in recorded} == {"completed"}


def test_corrupt_database_warns_and_the_run_prints_its_result(
    fal_sandbox_env, run_genmedia, db_path
) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(b"\x00garbage, not a database\n" * 500)
    result = run_genmedia("run", ENDPOINT, "--prompt", "still works")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "completed" and doc["result"]["images"]
    assert result.stderr == ""  # JSON mode: the warning is in the document
    (warning,) = doc["warnings"]
    assert "the run journal" in warning and "not a valid database" in warning


def test_async_then_status_request_id_wait_downloads(fal_sandbox_env, cli, rows, tmp_path) -> None:
    submitted = cli("run", ENDPOINT, "--prompt", "later", "--async")
    rid = submitted.json["request_id"]
    out = tmp_path / "later"
    done = cli("status", rid, "--wait", "--download", str(out) + "/")
    assert done.exit_code == 0, done
    assert done.json["request_id"] == rid and done.json["downloaded_files"]
    (row,) = rows()
    assert row["status"] == "completed"


def test_api_key_and_media_bytes_are_never_stored(fal_sandbox_env, cli, db_path, tmp_path) -> None:
    result = cli("run", ENDPOINT, "--prompt", "secretless", "--download", str(tmp_path / "o") + "/")
    assert result.exit_code == 0, result
    key = os.environ["FAL_KEY"].encode()
    media = Path(result.json["downloaded_files"][0]["path"]).read_bytes()
    stored = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert key not in stored
    assert media[:64] not in stored


def test_no_history_env_records_nothing(fal_sandbox_env, run_genmedia, db_path) -> None:
    result = run_genmedia("run", ENDPOINT, "--prompt", "x", env={"GENMEDIA_NO_HISTORY": "1"})
    assert result.returncode == 0, result.stderr
    assert not db_path.exists()


def test_sandbox_runs_are_flagged(cli, rows, monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    result = cli("--sandbox", "run", ENDPOINT, "--prompt", "offline")
    assert result.exit_code == 0, result
    (row,) = rows()
    assert json.loads(row["marks"]) == {"sandbox": True}
    assert row["invocation"] == "genmedia --sandbox"
    assert cli("history", "show", "last").json["sandbox"] is True
    submitted = cli("--sandbox", "run", ENDPOINT, "--prompt", "later", "--async")
    rid = submitted.json["request_id"]
    (pending,) = cli("history", "list", "--status", "pending").json["jobs"]
    assert pending["resume"] == f"genmedia --sandbox status {rid} --wait"
    assert pending["sandbox"] is True


def test_uploaded_files_are_recorded_by_url(fal_sandbox_env, cli, rows, chdir_tmp) -> None:
    source = chdir_tmp / "photo.png"
    source.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    )
    result = cli("run", "fal-ai/esrgan", "--image_url", "./photo.png")
    assert result.exit_code == 0, result
    (row,) = rows()
    url = json.loads(row["input"])["image_url"]
    assert url.startswith(("http://", "https://")) and "photo" in url
    (upload,) = json.loads(row["uploads"])
    assert upload["url"] == url and upload["source"].endswith("photo.png")
