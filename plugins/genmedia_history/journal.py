"""The run journal: one SQLite database of every job genmedia submitted.

The database (``history.db`` in the data directory) is in WAL mode with a busy timeout, so
several genmedia processes can record at once (connections:
:mod:`genmedia_history.connections`). Its schema is
versioned with ``PRAGMA user_version`` and migrated forward by
:data:`~genmedia_history.database.MIGRATIONS`; a database written by a newer genmedia is
read but never written.

It stores what is needed to find a job again and to know what came of it: endpoint,
provider, the submitted input (with the URLs of uploaded files), the request id and the
rest of the provider's handle (``JobHandle.extra``, e.g. fal's queue URLs), the output
marks and command words of the invocation that made it, times, status, error, the result
JSON and the files saved from it (path, URL, sha256). It never stores media bytes
(``data:`` URIs are replaced by a placeholder) nor the API key.

States (``jobs.status``), see docs/history.md:

- unfinished (``history list --status pending`` shows them all; ``genmedia status
  REQUEST_ID --wait`` finishes each): ``pending`` (submitted, no status seen yet),
  ``in_queue``, ``in_progress``, ``interrupted`` (Ctrl-C while waiting), ``timeout``
  (``--timeout`` expired), ``error`` (genmedia lost contact: network, 5xx while waiting or
  fetching the result);
- finished: ``completed`` (result recorded), ``failed`` (the model reported an error),
  ``cancelled`` (cancelled with ``--cancel-on-interrupt``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import attrs

from genmedia_history.connections import Connections
from genmedia_history.database import MIGRATIONS, SCHEMA_VERSION, JournalError, open_database
from genmedia_history.lookup import lookup
from genmedia_history.records import (
    FINISHED,
    JSON_COLUMNS,
    PENDING,
    STATES,
    UNFINISHED,
    FileRecord,
    JobRecord,
    Query,
    dumps_stored,
    from_row,
    list_sql,
    prompt_text,
    strip_media,
)

__all__ = [
    "FINISHED",
    "MIGRATIONS",
    "PENDING",
    "SCHEMA_VERSION",
    "STATES",
    "UNFINISHED",
    "FileRecord",
    "JobRecord",
    "Journal",
    "JournalError",
    "Query",
    "prompt_text",
    "strip_media",
]

# --------------------------------------------------------------------------- the journal


@attrs.define
class Journal:
    """The journal at ``path``: a connection per operation, or one for all of them from
    :meth:`keep_open` to :meth:`close` (a run). Only :meth:`record_job` syncs."""

    path: Path
    busy_timeout: float = 5.0
    #: rows the last reads could not decode (``{"id", "request_id", "reason"}``): they
    #: are skipped, never fatal, and the commands say so.
    skipped: list[dict[str, Any]] = attrs.field(factory=list, init=False)
    connections: Connections = attrs.field(
        init=False, repr=False, eq=False, default=attrs.Factory(Connections, takes_self=True)
    )

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def connect(self, *, write: bool) -> AbstractContextManager[sqlite3.Connection]:
        """A new connection with the schema migrated (for ``write``) and checked."""
        return open_database(self.path, self.busy_timeout, write=write)

    def keep_open(self) -> Journal:
        """Writes share one connection (opened by the first) until :meth:`close`."""
        self.connections.keep_open()
        return self

    def close(self) -> None:
        """Close the kept-open connection; back to a connection per operation."""
        self.connections.close()

    def batch(self, *, durable: bool = False) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction: the writes made inside it commit together."""
        return self.connections.batch(durable=durable)

    # -- writes --------------------------------------------------------------------------

    def record_job(
        self,
        *,
        provider: str,
        endpoint_id: str,
        request_id: str,
        status: str = "pending",
        input: Mapping[str, Any] | None = None,
        uploads: Sequence[Mapping[str, Any]] | None = None,
        extra: Mapping[str, str] | None = None,
        submitted_at: float | None = None,
        marks: Mapping[str, Any] | None = None,
        invocation: str | None = None,
        batch: str | None = None,
        durable: bool = True,
    ) -> int:
        """Insert the job, or fill in what an existing row lacks; returns the row id.

        ``extra`` is the handle's ``JobHandle.extra`` (kept whole, whatever its keys);
        ``marks`` and ``invocation`` the configuration the job is made under
        (``Settings.marks``, ``Settings.invocation``).

        An existing row keeps its input, times, status, batch, marks and invocation
        (``status REQUEST_ID --wait`` calls this again when it reattaches, with no input);
        a new non-empty ``extra`` replaces the stored one. ``durable``: synced to disk
        before this returns, so a job that exists at the host is never forgotten.
        """
        now = time.time()
        with self.batch(durable=durable) as conn:
            conn.execute(
                """
                INSERT INTO jobs (provider, endpoint_id, request_id, status, prompt, input,
                    uploads, handle_extra, submitted_at, updated_at, marks, invocation, batch)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (provider, request_id) DO UPDATE SET
                    prompt = COALESCE(jobs.prompt, excluded.prompt),
                    batch = COALESCE(jobs.batch, excluded.batch),
                    input = COALESCE(jobs.input, excluded.input),
                    uploads = COALESCE(jobs.uploads, excluded.uploads),
                    handle_extra = COALESCE(excluded.handle_extra, jobs.handle_extra),
                    updated_at = excluded.updated_at
                """,
                (
                    provider,
                    endpoint_id,
                    request_id,
                    status,
                    prompt_text(input),
                    dumps_stored(dict(input)) if input else None,
                    dumps_stored([dict(u) for u in uploads]) if uploads else None,
                    json.dumps(dict(extra), ensure_ascii=False) if extra else None,
                    submitted_at or now,
                    now,
                    json.dumps(dict(marks or {}), ensure_ascii=False, default=str),
                    invocation or "genmedia",
                    batch,
                ),
            )
            row = conn.execute(
                "SELECT id FROM jobs WHERE provider = ? AND request_id = ?",
                (provider, request_id),
            ).fetchone()
            return int(row["id"])

    def update_status(
        self,
        provider: str,
        request_id: str,
        *,
        status: str | None = None,
        host_status: str | None = None,
        started_at: float | None = None,
        error: str | None = None,
        error_type: str | None = None,
    ) -> bool:
        """Record a state change of an unfinished job (a finished row is left as it is).

        Returns whether a row was changed.
        """
        now = time.time()
        with self.batch() as conn:
            cur = conn.execute(
                f"""
                UPDATE jobs SET
                    status = COALESCE(?, status),
                    host_status = COALESCE(?, host_status),
                    started_at = COALESCE(started_at, ?),
                    error = COALESCE(?, error),
                    error_type = COALESCE(?, error_type),
                    completed_at = CASE WHEN ? IN {FINISHED!r} THEN ? ELSE completed_at END,
                    updated_at = ?
                WHERE provider = ? AND request_id = ? AND status NOT IN {FINISHED!r}
                """,
                (
                    status,
                    host_status,
                    started_at,
                    error,
                    error_type,
                    status,
                    now,
                    now,
                    provider,
                    request_id,
                ),
            )
            return cur.rowcount > 0

    def complete(
        self,
        provider: str,
        request_id: str,
        *,
        result: Mapping[str, Any],
        files: Sequence[FileRecord] = (),
        download_failures: Sequence[Mapping[str, Any]] | None = None,
        completed_at: float | None = None,
    ) -> bool:
        """Record the result and the saved files (added to files saved before)."""
        now = time.time()
        with self.batch() as conn:
            row = conn.execute(
                "SELECT id FROM jobs WHERE provider = ? AND request_id = ?",
                (provider, request_id),
            ).fetchone()
            if row is None:
                return False
            conn.execute(
                """
                UPDATE jobs SET status = 'completed', host_status = 'COMPLETED',
                    completed_at = COALESCE(completed_at, ?), result = ?,
                    download_failures = ?, error = NULL, error_type = NULL,
                    updated_at = ?
                WHERE id = ?
                """,
                (
                    completed_at or now,
                    dumps_stored(dict(result)),
                    dumps_stored([dict(f) for f in download_failures])
                    if download_failures
                    else None,
                    now,
                    row["id"],
                ),
            )
            for f in files:
                conn.execute(
                    """
                    INSERT INTO files (job_id, path, url, json_path, size_bytes,
                        content_type, sha256, saved_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (job_id, path) DO UPDATE SET url = excluded.url,
                        json_path = excluded.json_path, size_bytes = excluded.size_bytes,
                        content_type = excluded.content_type, sha256 = excluded.sha256,
                        saved_at = excluded.saved_at
                    """,
                    (
                        row["id"],
                        f.path,
                        f.url,
                        f.json_path,
                        f.size_bytes,
                        f.content_type,
                        f.sha256,
                        f.saved_at or now,
                    ),
                )
            return True

    # -- reads ---------------------------------------------------------------------------

    def find_provider(self, request_id: str) -> str | None:
        """The provider of the most recent job with this request id."""
        job = self.get(request_id)
        return job.provider if job else None

    def get(self, reference: str) -> JobRecord | None:
        """A job by ``last``, request id, row id or a unique prefix of a request id (see
        :func:`genmedia_history.lookup.lookup`); two jobs named: ``ambiguous``."""
        try:
            with self.connections.reading() as conn:
                rows = lookup(conn, reference, self.path)
                if not rows:
                    return None
                record = self._record(conn, rows[0])
                if record is None:
                    bad = self.skipped[-1]
                    raise JournalError(
                        f"row {bad['id']} is damaged ({bad['reason']})", "corrupt", self.path
                    )
                return record
        except JournalError as exc:
            if exc.reason == "empty":
                return None
            raise

    def list(self, query: Query) -> list[JobRecord]:
        """Jobs matching ``query``, newest first. A journal not yet migrated to record
        batch ids (only read, never written by this genmedia) has no job of any batch."""
        sql, args = list_sql(query)
        try:
            with self.connections.reading() as conn:
                if query.batch is not None and not _has_column(conn, "jobs", "batch"):
                    return []
                records = [self._record(conn, row) for row in conn.execute(sql, args).fetchall()]
                return [r for r in records if r is not None]
        except JournalError as exc:
            if exc.reason == "empty":
                return []
            raise

    def _record(self, conn: sqlite3.Connection, row: sqlite3.Row) -> JobRecord | None:
        """The row as a record; a row that cannot be decoded (a value of the wrong type
        written by a bug, a tool or a disk error) is added to :attr:`skipped`: None."""
        try:
            return self._decode(conn, row)
        except Exception as exc:
            keys = row.keys()
            self.skipped.append(
                {
                    "id": row["id"] if "id" in keys else None,
                    "request_id": row["request_id"] if "request_id" in keys else None,
                    "reason": f"{type(exc).__name__}: {exc}"[:300],
                }
            )
            return None

    def _decode(self, conn: sqlite3.Connection, row: sqlite3.Row) -> JobRecord:
        from genmedia.serialization import structure

        data = dict(row)
        for column in JSON_COLUMNS:
            if data.get(column) is not None:
                try:
                    data[column] = json.loads(data[column])
                except ValueError:
                    data[column] = None
        data = from_row(data)
        data["files"] = [
            {k: v for k, v in dict(f).items() if k not in ("id", "job_id")}
            for f in conn.execute(
                "SELECT * FROM files WHERE job_id = ? ORDER BY id", (data["id"],)
            ).fetchall()
        ]
        return structure(data, JobRecord)  # type: ignore[no-any-return]


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})"))
