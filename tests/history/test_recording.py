"""The history hooks on the real pipeline, with a scripted provider (no network).

Each test runs ``genmedia run``/``status`` in-process through ``cli`` and reads the journal
with plain sqlite3, as another process would.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genmedia import errors

RUN = ("run", "test/model", "--provider", "fake")


def write_config(home: Path, history: dict[str, Any]) -> None:
    path = home / "config" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"plugins": {"history": history}}))
    path.chmod(0o600)


def test_row_is_written_before_any_waiting(cli, fake, rows) -> None:
    seen: list[list[dict[str, Any]]] = []
    fake.provider.on_watch = lambda i, handle: seen.append(rows()) if i == 0 else None
    result = cli(*RUN, "--prompt", "a red cat", "--seed", "7")
    assert result.exit_code == 0, result
    (before,) = seen[0]
    handle = fake.provider.submitted[0]
    assert before["request_id"] == handle.request_id
    assert before["status"] == "pending"
    assert before["endpoint_id"] == "test/model" and before["provider"] == "fake"
    assert json.loads(before["input"])["prompt"] == "a red cat"
    assert str(json.loads(before["input"])["seed"]) == "7"
    assert json.loads(before["handle_extra"]) == handle.extra
    assert before["submitted_at"] == pytest.approx(handle.submitted_at)
    assert json.loads(before["marks"]) == {} and before["invocation"] == "genmedia"
    assert before["completed_at"] is None


def test_state_changes_and_result_are_recorded(cli, fake, rows) -> None:
    seen: dict[int, dict[str, Any]] = {}
    fake.provider.on_watch = lambda i, handle: seen.__setitem__(i, rows()[0]) if i else None
    result = cli(*RUN, "--prompt", "a cat")
    assert result.exit_code == 0, result
    assert seen[1]["status"] == "in_queue" and seen[1]["host_status"] == "IN_QUEUE"
    assert seen[2]["status"] == "in_progress" and seen[2]["started_at"] is not None
    (row,) = rows()
    assert row["status"] == "completed" and row["host_status"] == "COMPLETED"
    assert json.loads(row["result"]) == result.json["result"]
    assert row["completed_at"] >= row["started_at"] >= row["submitted_at"]
    assert "logs" not in json.loads(row["result"])


def test_saved_files_are_recorded_with_sha256(cli, fake, rows, tmp_path, db_path) -> None:
    fake.save_dir = tmp_path / "out"
    result = cli(*RUN, "--prompt", "a cat")
    assert result.exit_code == 0, result
    saved = tmp_path / "out" / "0.png"
    conn = sqlite3.connect(db_path)
    try:
        files = conn.execute("SELECT path, url, sha256, size_bytes FROM files").fetchall()
    finally:
        conn.close()
    assert files == [
        (
            str(saved.resolve()),
            result.json["result"]["images"][0]["url"],
            hashlib.sha256(saved.read_bytes()).hexdigest(),
            saved.stat().st_size,
        )
    ]
    shown = cli("history", "show", "last").json
    assert shown["files"][0]["sha256"] == files[0][2]


def test_failed_model_is_recorded_as_failed(cli, fake, rows) -> None:
    fake.provider.error = "Runner disconnected"
    result = cli(*RUN, "--prompt", "a cat")
    assert result.exit_code == errors.EXIT_REMOTE
    (row,) = rows()
    assert row["status"] == "failed"
    assert "Runner disconnected" in row["error"]
    assert row["error_type"] == "runner_disconnected"
    assert row["completed_at"] is not None
    listed = cli("history", "--status", "pending").json["jobs"]
    assert listed == []  # a failed job is finished: nothing to resume


def _interrupt_at(step: int):
    def hook(i: int, handle: Any) -> None:
        if i == step:
            raise KeyboardInterrupt

    return hook


def test_interrupted_job_is_pending_and_status_last_wait_finishes_it(cli, fake, rows) -> None:
    fake.provider.on_watch = _interrupt_at(1)
    result = cli(*RUN, "--prompt", "a slow cat")
    assert result.exit_code == errors.EXIT_INTERRUPTED
    rid = fake.provider.submitted[0].request_id
    (row,) = rows()
    assert row["status"] == "interrupted" and row["completed_at"] is None
    pending = cli("history", "list", "--status", "pending").json["jobs"]
    assert [(j["request_id"], j["status"]) for j in pending] == [(rid, "interrupted")]
    assert pending[0]["resume"] == f"genmedia status {rid} --wait"

    fake.provider.on_watch = None
    done = cli("status", "last", "--wait")
    assert done.exit_code == 0, done
    assert done.json["request_id"] == rid and done.json["status"] == "completed"
    (row,) = rows()
    assert row["status"] == "completed" and row["error"] is None
    assert json.loads(row["input"]) == {"prompt": "a slow cat"}  # kept from the run
    assert cli("history", "--status", "pending").json["jobs"] == []


def test_failed_or_interrupted_reattach_is_recorded(cli, fake, rows) -> None:
    fake.provider.script = ["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
    fake.provider.on_watch = _interrupt_at(0)
    cli(*RUN, "--prompt", "x")
    fake.provider.on_watch = _interrupt_at(2)
    again = cli("status", "last", "--wait")
    assert again.exit_code == errors.EXIT_INTERRUPTED
    assert again.error["details"]["request_id"] == rows()[0]["request_id"]
    assert (rows()[0]["status"], rows()[0]["host_status"]) == ("interrupted", "IN_PROGRESS")
    fake.provider.on_watch = None
    fake.provider.result_error = errors.ValidationError("Input should be a valid integer")
    failed = cli("status", "last", "--wait")
    assert failed.exit_code == errors.EXIT_VALIDATION
    (row,) = rows()
    assert row["status"] == "failed" and "valid integer" in row["error"]
    assert cli("history", "--status", "pending").json["jobs"] == []


@pytest.mark.parametrize(
    "request_id",
    [
        None,  # a random uuid4 (2% of them start with 8 digits)
        # 8 digits, as time-ordered ids often start: that prefix was read as a row id
        # only ("Unknown job", nothing on stdout)
        "01934512-7c0a-7e3d-9f10-2b5e6d7c8a9b",
    ],
    ids=["uuid4", "digits-prefix"],
)
def test_status_by_request_id_alone(cli, fake, rows, request_id) -> None:
    fake.provider.request_ids = [request_id] if request_id else []
    fake.provider.on_watch = _interrupt_at(0)
    cli(*RUN, "--prompt", "x")
    rid = fake.provider.submitted[0].request_id
    fake.provider.on_watch = None
    checked = cli("status", rid)
    assert checked.exit_code == 0, checked
    assert checked.json["status"] == "COMPLETED"
    waited = cli("status", rid[:8], "--wait")  # a unique prefix
    assert waited.exit_code == 0, waited
    assert waited.json["request_id"] == rid
    assert rows()[0]["status"] == "completed"
    unknown = cli("status", "no-such-request")
    assert unknown.exit_code == errors.EXIT_USAGE


def test_digits_that_are_a_job_id_and_another_jobs_prefix_are_ambiguous(cli, fake) -> None:
    fake.provider.request_ids = ["r-1", "000001-2"]
    assert cli(*RUN, "--prompt", "one").exit_code == 0  # row 1
    assert cli(*RUN, "--prompt", "two").exit_code == 0  # request id 000001-2
    result = cli("status", "000001", "--wait")
    assert result.exit_code == errors.EXIT_USAGE, result
    assert result.stdout == "" and "job id 1" in result.error["error"]
    assert result.error["details"]["hint"] == "give more of the request id, or all of it"
    assert cli("history", "show", "000001").error == result.error


def test_timeout_is_recorded_and_resumable(cli, fake, rows) -> None:
    fake.provider.on_watch = lambda i, h: time.sleep(0.3) if i == 1 else None
    result = cli(*RUN, "--prompt", "x", "--timeout", "0.1")
    assert result.exit_code == errors.EXIT_TIMEOUT, result
    (row,) = rows()
    assert row["status"] == "timeout" and "Timed out" in row["error"]
    assert [j["status"] for j in cli("history", "--status", "pending").json["jobs"]] == ["timeout"]


def test_cancel_on_interrupt_is_recorded_as_cancelled(cli, fake, rows) -> None:
    fake.provider.on_watch = _interrupt_at(1)
    result = cli(*RUN, "--prompt", "x", "--cancel-on-interrupt")
    assert result.exit_code == errors.EXIT_INTERRUPTED
    assert fake.provider.cancelled
    assert rows()[0]["status"] == "cancelled"
    assert cli("history", "--status", "pending").json["jobs"] == []


def test_lost_contact_is_an_unfinished_error(cli, fake, rows) -> None:
    fake.provider.result_error = errors.RemoteError("Service unavailable (503)")
    result = cli(*RUN, "--prompt", "x")
    assert result.exit_code == errors.EXIT_REMOTE
    (row,) = rows()
    assert row["status"] == "error" and "503" in row["error"]
    assert [j["status"] for j in cli("history", "--status", "pending").json["jobs"]] == ["error"]


def test_async_run_is_recorded_and_completed_by_status_result(cli, fake, rows) -> None:
    submitted = cli(*RUN, "--prompt", "later", "--async")
    assert submitted.exit_code == 0, submitted
    (row,) = rows()
    assert row["status"] == "pending" and row["request_id"] == submitted.json["request_id"]
    fetched = cli("status", "last", "--result")
    assert fetched.exit_code == 0, fetched
    assert rows()[0]["status"] == "completed"


def test_status_with_endpoint_records_an_unknown_job(cli, fake, rows) -> None:
    result = cli("status", "test/model", "abc-123", "--provider", "fake", "--wait")
    assert result.exit_code == 0, result
    (row,) = rows()
    assert (row["request_id"], row["status"], row["input"]) == ("abc-123", "completed", None)


@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_recording_can_be_turned_off(cli, fake, db_path, isolated_env, how) -> None:
    args, env = list(RUN), None
    if how == "flag":
        args.append("--no-history")
    elif how == "env":
        env = {"GENMEDIA_NO_HISTORY": "1"}
    else:
        write_config(isolated_env, {"enabled": False})
    result = cli(*args, "--prompt", "secret", env=env)
    assert result.exit_code == 0, result
    async_run = cli(*args, "--prompt", "secret", "--async", env=env)
    assert async_run.exit_code == 0, async_run
    assert not db_path.exists()
    assert "run journal" not in result.stderr + async_run.stderr


def test_no_history_on_status_does_not_fetch_a_result(cli, fake, rows) -> None:
    cli(*RUN, "--prompt", "x", "--async")
    result = cli("status", "last", "--no-history")
    assert result.exit_code == 0, result
    assert result.json["status"] == "COMPLETED" and "result" not in result.json
    assert rows()[0]["status"] == "pending"  # nothing recorded by that status call


# --------------------------------------------------------------------------- best effort


def _assert_run_succeeds_with_warning(result: Any, *fragments: str) -> None:
    assert result.exit_code == 0, result
    assert result.json["status"] == "completed" and result.json["request_id"]
    assert result.stderr == ""  # JSON mode: warnings are in the document
    text = "\n".join(result.json["warnings"])
    assert "run journal" in text
    for fragment in fragments:
        assert fragment in text


def test_corrupt_database_warns_and_the_run_completes(cli, fake, db_path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = b"definitely not an SQLite database\n" * 300
    db_path.write_bytes(garbage)
    result = cli(*RUN, "--prompt", "x")
    _assert_run_succeeds_with_warning(result, "not a valid database", "mv ")
    assert "\n".join(result.json["warnings"]).count("run journal") == 1  # not one per hook
    assert db_path.read_bytes() == garbage  # never "repaired" behind the user's back
    broken = cli("history")
    assert broken.exit_code == 1 and "Cannot read the run journal" in broken.error["error"]


def test_locked_database_warns_and_the_run_completes(cli, fake, db_path, isolated_env) -> None:
    write_config(isolated_env, {"busy_timeout": 0.2})
    cli(*RUN, "--prompt", "first")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        result = cli(*RUN, "--prompt", "second")
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _assert_run_succeeds_with_warning(result, "locked")
    assert elapsed < 5  # progress updates are skipped once the journal is struggling


@pytest.fixture
def make_readonly() -> Iterator[Any]:
    touched: list[Path] = []

    def apply(path: Path) -> None:
        if os.geteuid() == 0:
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
            if done.returncode != 0:
                pytest.skip("running as root without chattr: cannot make a file read-only")
        else:
            path.chmod(0o444)
        touched.append(path)

    yield apply
    for path in touched:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        else:
            path.chmod(0o644)


def test_read_only_database_warns_and_the_run_completes(
    cli, fake, db_path, rows, make_readonly
) -> None:
    cli(*RUN, "--prompt", "first")
    make_readonly(db_path)
    result = cli(*RUN, "--prompt", "second")
    _assert_run_succeeds_with_warning(result, "read-only")
    assert [r["prompt"] for r in rows()] == ["first"]
    assert cli("history", "show", "last").json["prompt"] == "first"  # still readable


def test_database_from_a_newer_genmedia_is_not_written(cli, fake, db_path, rows) -> None:
    cli(*RUN, "--prompt", "first")
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    result = cli(*RUN, "--prompt", "second")
    _assert_run_succeeds_with_warning(result, "newer genmedia")
    assert len(rows()) == 1


def test_journal_path_from_config(cli, fake, isolated_env, tmp_path) -> None:
    custom = tmp_path / "elsewhere" / "jobs.db"
    write_config(isolated_env, {"path": str(custom)})
    assert cli("history", "path").json == {"path": str(custom), "exists": False}
    cli(*RUN, "--prompt", "x")
    assert custom.exists()
    assert cli("history", "path").json == {"path": str(custom), "exists": True}
