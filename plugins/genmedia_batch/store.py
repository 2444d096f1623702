"""The batch journal: ``batches.db`` (SQLite, WAL) in genmedia's data directory, next to
the run journal, created 0600 in a 0700 directory.

One connection per process, shared by the workers behind a lock; every state change is
committed at once, so a job's row is durable before anything that depends on it:

* ``pending`` → ``submitting`` is committed *before* the submit,
* the request id (``submitted``) is committed the moment it exists, before any waiting,
* ``completed`` / ``failed`` / ``cancelled`` when the wait ends.

A row still ``submitting`` when a batch starts again belongs to a process that died
between its submit and the record of the request id (``kill -9``): the job may exist, so
it becomes ``unknown`` and is never submitted again unless asked (``--retry-failed``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from genmedia_batch.marks import add_columns, marks_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    source TEXT,
    state TEXT NOT NULL,
    total INTEGER NOT NULL,
    options TEXT NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    marks TEXT,
    invocation TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    batch TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    key TEXT,
    endpoint_id TEXT NOT NULL,
    input TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    provider TEXT,
    request_id TEXT,
    estimate REAL,
    error TEXT,
    exit_code INTEGER,
    result TEXT,
    files TEXT,
    submitted_at REAL,
    finished_at REAL,
    PRIMARY KEY (batch, line)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(batch, state);
"""

#: job states; ``done`` ones are never submitted again.
PENDING, SUBMITTING, SUBMITTED = "pending", "submitting", "submitted"
COMPLETED, FAILED, CANCELLED, UNKNOWN = "completed", "failed", "cancelled", "unknown"
DONE = frozenset({COMPLETED, FAILED, CANCELLED})
STATES = (PENDING, SUBMITTING, SUBMITTED, COMPLETED, FAILED, CANCELLED, UNKNOWN)


@attrs.frozen
class JobRow:
    """One job of a batch as the journal keeps it."""

    batch: str
    line: int
    key: str | None
    endpoint_id: str
    input: dict[str, Any]
    input_hash: str
    state: str
    provider: str | None = None
    request_id: str | None = None
    estimate: float | None = None
    error: dict[str, Any] | None = None
    exit_code: int | None = None
    result: dict[str, Any] | None = None
    files: list[str] | None = None
    submitted_at: float | None = None
    finished_at: float | None = None


@attrs.frozen
class BatchRow:
    id: str
    created_at: float
    updated_at: float
    source: str | None
    state: str
    total: int
    options: dict[str, Any]
    #: the output marks the batch was made under (``Settings.marks``): resumed only
    #: under the same ones.
    marks: dict[str, Any] = attrs.field(factory=dict)
    #: the command words of the invocation that made it (``Settings.invocation``).
    invocation: str = "genmedia"
    counts: dict[str, int] = attrs.field(factory=dict)


def _private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class Store:
    """The batch journal at ``path`` (one connection, thread-safe through a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _private(path)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives any kill of the process.
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.executescript(SCHEMA)
        self.conn.commit()
        add_columns(self.conn)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self.lock:
            cur = self.conn.execute(sql, args)
            self.conn.commit()
            return cur.rowcount

    # -- batches ---------------------------------------------------------------------

    def create(
        self,
        batch_id: str,
        source: str | None,
        options: dict[str, Any],
        marks: dict[str, Any],
        invocation: str,
        jobs: Iterator[tuple[int, str | None, str, dict[str, Any], str, float | None]],
    ) -> int:
        """Insert a batch and all its jobs (``pending``) in one transaction."""
        now = time.time()
        with self.lock:
            try:
                self.conn.execute(
                    "INSERT INTO batches (id, created_at, updated_at, source, state, total, "
                    "options, marks, invocation) VALUES (?, ?, ?, ?, 'running', 0, ?, ?, ?)",
                    (
                        batch_id,
                        now,
                        now,
                        source,
                        json.dumps(options),
                        json.dumps(marks, default=str),
                        invocation,
                    ),
                )
                total = 0
                for line, key, endpoint, payload, digest, cost in jobs:
                    self.conn.execute(
                        "INSERT INTO jobs (batch, line, key, endpoint_id, input, input_hash, "
                        "state, estimate) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                        (batch_id, line, key, endpoint, json.dumps(payload), digest, cost),
                    )
                    total += 1
                self.conn.execute("UPDATE batches SET total = ? WHERE id = ?", (total, batch_id))
                self.conn.commit()
            except BaseException:
                self.conn.rollback()
                raise
        return total

    def batch(self, batch_id: str) -> BatchRow | None:
        with self.lock:
            row = self.conn.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
            if row is None:
                return None
            return self._batch(row)

    def batches(self, limit: int | None = None) -> list[BatchRow]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT * FROM batches ORDER BY created_at DESC LIMIT ?", (limit or -1,)
            ).fetchall()
            return [self._batch(r) for r in rows]

    def _batch(self, row: sqlite3.Row) -> BatchRow:
        counts = dict.fromkeys(STATES, 0)
        for state, n in self.conn.execute(
            "SELECT state, count(*) FROM jobs WHERE batch = ? GROUP BY state", (row["id"],)
        ):
            counts[state] = n
        return BatchRow(
            id=row["id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            source=row["source"],
            state=row["state"],
            total=row["total"],
            options=json.loads(row["options"]),
            **marks_of(row),
            counts=counts,
        )

    def set_batch(self, batch_id: str, **changes: Any) -> None:
        if "options" in changes:
            changes["options"] = json.dumps(changes["options"])
        changes["updated_at"] = time.time()
        cols = ", ".join(f"{k} = ?" for k in changes)
        self._write(f"UPDATE batches SET {cols} WHERE id = ?", (*changes.values(), batch_id))

    # -- jobs ------------------------------------------------------------------------

    def jobs(
        self, batch_id: str, states: tuple[str, ...] = (), *, chunk: int = 256
    ) -> Iterator[JobRow]:
        """The batch's jobs in line order, read in chunks (memory stays flat)."""
        after = -1
        where = f" AND state IN ({', '.join('?' * len(states))})" if states else ""
        while True:
            with self.lock:
                rows = self.conn.execute(
                    f"SELECT * FROM jobs WHERE batch = ? AND line > ?{where} ORDER BY line LIMIT ?",
                    (batch_id, after, *states, chunk),
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield to_job(row)
            after = rows[-1]["line"]

    def job(self, batch_id: str, line: int) -> JobRow | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT * FROM jobs WHERE batch = ? AND line = ?", (batch_id, line)
            ).fetchone()
        return to_job(row) if row is not None else None

    def claim(self, batch_id: str, line: int) -> bool:
        """``pending`` (or a retried ending) → ``submitting``, committed before the submit;
        False when another writer (``batch cancel``) changed the row first."""
        return (
            self._write(
                "UPDATE jobs SET state = 'submitting', error = NULL, "
                "exit_code = NULL, request_id = NULL, submitted_at = ? "
                "WHERE batch = ? AND line = ? AND state IN ('pending', 'failed', 'unknown')",
                (time.time(), batch_id, line),
            )
            == 1
        )

    def submitted(self, batch_id: str, line: int, provider: str, request_id: str) -> None:
        self._write(
            "UPDATE jobs SET state = 'submitted', provider = ?, request_id = ? "
            "WHERE batch = ? AND line = ? AND state IN ('submitting', 'submitted')",
            (provider, request_id, batch_id, line),
        )

    def finished(
        self,
        batch_id: str,
        line: int,
        state: str,
        *,
        error: dict[str, Any] | None = None,
        exit_code: int | None = None,
        result: dict[str, Any] | None = None,
        files: list[str] | None = None,
    ) -> None:
        self._write(
            "UPDATE jobs SET state = ?, error = ?, exit_code = ?, result = ?, files = ?, "
            "finished_at = ? WHERE batch = ? AND line = ?",
            (
                state,
                json.dumps(error) if error is not None else None,
                exit_code,
                json.dumps(result) if result is not None else None,
                json.dumps(files) if files is not None else None,
                time.time(),
                batch_id,
                line,
            ),
        )

    def note(self, batch_id: str, line: int, error: dict[str, Any], exit_code: int) -> None:
        """Why the wait on a submitted job broke; the job stays ``submitted``."""
        self._write(
            "UPDATE jobs SET error = ?, exit_code = ? WHERE batch = ? AND line = ?",
            (json.dumps(error), exit_code, batch_id, line),
        )

    def orphans_to_unknown(self, batch_id: str) -> int:
        """Rows left ``submitting`` by a process that died: the job may exist."""
        error = {
            "error": "the process stopped while submitting this job: it may exist",
            "details": {"hint": "check your requests on the provider's dashboard; "
                        "--retry-failed submits it again"},
        }  # fmt: skip
        return self._write(
            "UPDATE jobs SET state = 'unknown', error = ? WHERE batch = ? AND state = 'submitting'",
            (json.dumps(error), batch_id),
        )

    def cancel_pending(self, batch_id: str) -> int:
        return self._write(
            "UPDATE jobs SET state = 'cancelled', finished_at = ? "
            "WHERE batch = ? AND state = 'pending'",
            (time.time(), batch_id),
        )

    def spent(self, batch_id: str) -> float:
        """The estimates of the jobs submitted so far (the running estimate)."""
        with self.lock:
            row = self.conn.execute(
                "SELECT sum(estimate) FROM jobs WHERE batch = ? "
                "AND state NOT IN ('pending', 'cancelled')",
                (batch_id,),
            ).fetchone()
        return float(row[0] or 0.0)


def to_job(row: sqlite3.Row) -> JobRow:
    def load(value: str | None) -> Any:
        return json.loads(value) if value is not None else None

    return JobRow(
        batch=row["batch"],
        line=row["line"],
        key=row["key"],
        endpoint_id=row["endpoint_id"],
        input=json.loads(row["input"]),
        input_hash=row["input_hash"],
        state=row["state"],
        provider=row["provider"],
        request_id=row["request_id"],
        estimate=row["estimate"],
        error=load(row["error"]),
        exit_code=row["exit_code"],
        result=load(row["result"]),
        files=load(row["files"]),
        submitted_at=row["submitted_at"],
        finished_at=row["finished_at"],
    )


def lock_batch(directory: Path, batch_id: str) -> Any:
    """An exclusive lock on the batch (one runner at a time; released when the process
    dies, even by ``kill -9``); None when another process holds it."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / f"{batch_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def unlock_batch(fd: Any) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
