"""Schema migrations: a journal written by the previous schema (version 1, no batch ids)
is read as it is, upgraded in place by the first write — once, even when many processes
open it at the same moment — and keeps its old rows, whose batch is NULL."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from genmedia_history.journal import SCHEMA_VERSION, Journal, Query
from tests.history.journals import journal_at, raw, version


def old_journal(path: Path) -> Path:
    """A journal as version 1 of the schema left it: two jobs, one completed with a file."""
    old = [
        {"provider": "fal", "endpoint_id": "fal-ai/flux/dev", "request_id": rid, "status": status,
         "prompt": "a cat", "input": '{"prompt": "a cat"}', "submitted_at": at,
         "updated_at": at, "sandbox": 1}
        for rid, status, at in (("old-1", "completed", 1000.0), ("old-2", "failed", 2000.0))
    ]  # fmt: skip
    journal_at(path, 1, old)
    assert "batch" not in {row[1] for row in raw(path, "PRAGMA table_info(jobs)")}
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(
                "INSERT INTO files (job_id, path, url, sha256, saved_at)"
                " VALUES (1, '/out/a.png', 'https://cdn/a.png', 'aa', 1001.0)"
            )
    finally:
        conn.close()
    return path


def test_the_previous_schema_is_read_as_it_is(tmp_path: Path) -> None:
    path = old_journal(tmp_path / "history.db")
    journal = Journal(path)
    jobs = journal.list(Query(limit=None))
    assert [(j.request_id, j.batch) for j in jobs] == [("old-2", None), ("old-1", None)]
    # no job of the old schema belongs to a batch (and asking is no error)
    assert journal.list(Query(batch="b-1")) == []
    old = journal.get("old-1")
    assert old is not None and old.batch is None and [f.path for f in old.files] == ["/out/a.png"]
    assert version(path) == 1  # readers never migrate


def test_the_first_write_upgrades_in_place_and_old_rows_have_no_batch(tmp_path: Path) -> None:
    path = old_journal(tmp_path / "history.db")
    journal = Journal(path)
    journal.record_job(
        provider="fal", endpoint_id="fal-ai/flux/dev", request_id="new-1", batch="b-1"
    )
    assert version(path) == SCHEMA_VERSION == 3  # through 2 and 3 in one go
    rows = {r["request_id"]: r for r in raw(path, "SELECT * FROM jobs")}
    assert rows["old-1"]["batch"] is None and rows["old-2"]["batch"] is None
    assert rows["new-1"]["batch"] == "b-1"
    indexes = {r["name"] for r in raw(path, "SELECT name FROM sqlite_master WHERE type='index'")}
    assert "jobs_batch" in indexes
    # the old rows are intact
    old = journal.get("old-1")
    assert old is not None and old.status == "completed" and old.input == {"prompt": "a cat"}
    assert old.marks == {"sandbox": True} and [f.sha256 for f in old.files] == ["aa"]
    assert [j.request_id for j in journal.list(Query(batch="b-1"))] == ["new-1"]
    assert [j.request_id for j in journal.list(Query(limit=None))] == ["new-1", "old-2", "old-1"]


def _upgrade_and_write(path: str, worker: int) -> None:
    journal = Journal(Path(path), busy_timeout=30)
    for i in range(5):
        journal.record_job(
            provider="fal",
            endpoint_id="fal-ai/flux/dev",
            request_id=f"w{worker}-{i}",
            batch=f"batch-{worker}",
        )


@pytest.mark.timeout(60)
def test_many_processes_upgrade_an_old_journal_at_once(tmp_path: Path) -> None:
    """Six processes open the old journal together and write: the migration runs once
    (its ALTER TABLE twice would fail: "duplicate column name"), every write lands."""
    path = old_journal(tmp_path / "history.db")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_upgrade_and_write, args=(str(path), w)) for w in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(50)
    assert [p.exitcode for p in procs] == [0] * 6
    assert version(path) == SCHEMA_VERSION
    journal = Journal(path)
    assert len(journal.list(Query(limit=None))) == 32
    for w in range(6):
        mine = journal.list(Query(batch=f"batch-{w}"))
        assert sorted(j.request_id for j in mine) == [f"w{w}-{i}" for i in range(5)]
    assert {j.batch for j in journal.list(Query(text="cat"))} == {None}
