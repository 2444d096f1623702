"""The journal off the run's critical path (issue 14): one connection per invocation, only
the submit row synced, the host's COMPLETED written after the result GET, not before it.

The runs go through the real pipeline and history hooks (``cli`` with the scripted
provider); the journal is read with plain sqlite3, as another process would. The SQL a
run sends is observed with sqlite3's own trace callback on the connection genmedia opens.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from genmedia import errors
from genmedia_history import connections as connections_module
from genmedia_history import journal as journal_module
from genmedia_history.journal import SCHEMA_VERSION, Journal, JournalError

RUN = ("run", "test/model", "--provider", "fake")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every writing connection the journal opens, as the list of SQL it ran."""
    connections: list[list[str]] = []
    real = connections_module.open_writer

    def spy(path: Path, busy_timeout: float) -> sqlite3.Connection:
        conn = real(path, busy_timeout)
        statements: list[str] = []
        conn.set_trace_callback(lambda sql: statements.append(" ".join(sql.split())))
        connections.append(statements)
        return conn

    monkeypatch.setattr(connections_module, "open_writer", spy)
    return connections


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[sqlite3.Connection]:
    """Every writing connection the journal opens (to check that it was closed)."""
    connections: list[sqlite3.Connection] = []
    real = connections_module.open_writer

    def spy(path: Path, busy_timeout: float) -> sqlite3.Connection:
        connections.append(real(path, busy_timeout))
        return connections[-1]

    monkeypatch.setattr(connections_module, "open_writer", spy)
    return connections


def is_open(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return False
    return True


def test_a_run_writes_through_one_connection(cli, fake, rows, opened, db_path) -> None:
    fake.save_dir = db_path.parent.parent / "out"
    result = cli(*RUN, "--prompt", "a cat")
    assert result.exit_code == 0, result
    assert len(opened) == 1  # submit, IN_QUEUE, IN_PROGRESS and the result: one connection
    (row,) = rows()
    assert row["status"] == "completed" and row["host_status"] == "COMPLETED"
    # closed when the invocation ended: the WAL was checkpointed into the database
    assert not Path(f"{db_path}-wal").exists()


def test_only_the_submit_row_is_synced(cli, fake, opened) -> None:
    assert cli(*RUN, "--prompt", "a cat").exit_code == 0
    (statements,) = opened
    full = [i for i, sql in enumerate(statements) if sql == "PRAGMA synchronous = FULL"]
    assert len(full) == 1, statements
    durable = statements[full[0] : statements.index("PRAGMA synchronous = NORMAL", full[0])]
    assert any(sql.startswith("INSERT INTO jobs") for sql in durable)
    assert "COMMIT" in durable  # committed (and so synced) before going back to NORMAL
    later = statements[full[0] + len(durable) :]
    assert any(sql.startswith("UPDATE jobs SET status = 'completed'") for sql in later)


def test_completed_is_not_written_before_the_result_is_fetched(cli, fake, rows) -> None:
    at_result: list[dict[str, Any]] = []
    fetch = fake.provider.result

    def result(handle: Any) -> Any:
        at_result.append(rows()[0])
        return fetch(handle)

    fake.provider.result = result  # type: ignore[method-assign]
    assert cli(*RUN, "--prompt", "a cat").exit_code == 0
    assert at_result[0]["host_status"] == "IN_PROGRESS"  # COMPLETED not written yet
    (row,) = rows()
    assert row["status"] == "completed" and row["host_status"] == "COMPLETED"


def test_completed_then_a_lost_result_records_both(cli, fake, rows, opened) -> None:
    fake.provider.result_error = errors.RemoteError("Service unavailable (503)")
    assert cli(*RUN, "--prompt", "x").exit_code == errors.EXIT_REMOTE
    (row,) = rows()
    assert row["status"] == "error" and "503" in row["error"]
    assert row["host_status"] == "COMPLETED"  # the host's word is kept too
    # both changes in one transaction
    (statements,) = opened
    last_begin = max(i for i, sql in enumerate(statements) if sql == "BEGIN IMMEDIATE")
    updates = [sql for sql in statements[last_begin:] if sql.startswith("UPDATE jobs SET status")]
    assert len(updates) == 2


def test_a_pending_completed_is_written_when_the_invocation_ends(
    cli, fake, rows, isolated_env
) -> None:
    """A command that follows a job but records no result still leaves COMPLETED."""
    from genmedia.context import AppContext
    from genmedia.types import JobStatus
    from genmedia_history import recorder

    assert cli(*RUN, "--prompt", "a cat", "--async").exit_code == 0
    handle = fake.provider.submitted[0]
    ctx = AppContext()
    recorder.job_progress(handle, JobStatus(status="COMPLETED", request_id=handle.request_id), ctx)
    assert rows()[0]["host_status"] is None  # held back
    recorder.finish(ctx)
    assert rows()[0]["host_status"] == "COMPLETED"


def test_an_interrupted_run_closes_its_connection_and_the_job_resumes_by_prefix(
    cli, fake, rows, writers
) -> None:
    def interrupt(i: int, handle: Any) -> None:
        if i == 1:
            raise KeyboardInterrupt

    fake.provider.on_watch = interrupt
    assert cli(*RUN, "--prompt", "x").exit_code == errors.EXIT_INTERRUPTED
    assert writers and not any(map(is_open, writers))  # closed on Ctrl-C, not by the GC
    fake.provider.on_watch = None
    rid = fake.provider.submitted[0].request_id
    done = cli("status", rid[:8], "--wait")  # in the same process, right after
    assert done.exit_code == 0 and done.stderr == "", done
    assert json.loads(done.stdout)["request_id"] == rid  # one JSON document
    assert not any(map(is_open, writers))
    assert rows()[0]["status"] == "completed"


def test_a_batch_closes_the_journal_its_worker_threads_opened(
    cli, fal_sandbox_env, tmp_path, writers, db_path
) -> None:
    """The first write comes from a worker thread, where no click context exists: the
    connection used to stay open until the garbage collector found it."""
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        "".join(
            json.dumps({"endpoint_id": "fal-ai/flux/schnell", "input": {"prompt": f"cat {i}"}})
            + "\n"
            for i in range(3)
        )
    )
    result = cli("batch", str(jobs), "--concurrency", "2")
    assert result.exit_code == 0, result
    assert len(writers) == 1 and not is_open(writers[0])
    assert not Path(f"{db_path}-wal").exists()  # checkpointed when it closed
    statuses = [j["status"] for j in cli("history", "list", "--json").json["jobs"]]
    assert statuses == ["completed"] * 3


def test_the_connection_is_closed_when_the_last_write_raises(
    cli, fake, writers, monkeypatch
) -> None:
    """``--debug`` lets an unexpected error of the final write through: still closed."""
    from genmedia.context import AppContext
    from genmedia.types import JobStatus
    from genmedia_history import recorder

    assert cli(*RUN, "--prompt", "a cat", "--async").exit_code == 0
    handle = fake.provider.submitted[0]
    ctx = AppContext(debug=True)
    recorder.job_progress(handle, JobStatus(status="IN_QUEUE", request_id=handle.request_id), ctx)
    recorder.job_progress(handle, JobStatus(status="COMPLETED", request_id=handle.request_id), ctx)

    def broken(*args: Any) -> bool:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(recorder, "_flush", broken)
    ctx.close()  # the invocation ends: the pending COMPLETED is written, and fails
    assert not any(map(is_open, writers))
    assert any("disk on fire" in w for w in ctx.warnings)  # the boundary never throws


# -- the kept-open journal itself ---------------------------------------------------------------


@pytest.fixture
def kept(tmp_path: Path) -> Journal:
    journal = Journal(tmp_path / "j" / "history.db", busy_timeout=5).keep_open()
    yield journal
    journal.close()


def add(journal: Journal, rid: str) -> int:
    return journal.record_job(provider="fal", endpoint_id="fal-ai/flux/dev", request_id=rid)


def test_a_kept_open_journal_still_refuses_a_newer_schema(kept: Journal) -> None:
    add(kept, "r1")
    other = sqlite3.connect(kept.path)
    other.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    other.close()
    with pytest.raises(JournalError) as info:
        add(kept, "r2")
    assert info.value.reason == "newer"
    assert kept.get("r2") is None and kept.get("r1") is not None


def test_a_kept_open_journal_reads_its_own_writes_and_reopens_after_close(
    kept: Journal,
) -> None:
    add(kept, "r1")
    with kept.batch():
        add(kept, "r2")
        assert kept.get("r2") is not None  # inside the transaction, before its commit
    kept.close()
    assert {j.request_id for j in kept.list(journal_module.Query())} == {"r1", "r2"}
    add(kept, "r3")  # a closed journal writes with a connection per operation again
    assert kept.get("r3") is not None


def test_threads_share_a_kept_open_journal(kept: Journal) -> None:
    def work(worker: int) -> None:
        for i in range(20):
            rid = f"t{worker}-{i}"
            add(kept, rid)
            kept.update_status("fal", rid, status="in_progress", host_status="IN_PROGRESS")
            kept.complete("fal", rid, result={"i": i})

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    jobs = kept.list(journal_module.Query(limit=None))
    assert len(jobs) == 80 and {j.status for j in jobs} == {"completed"}
