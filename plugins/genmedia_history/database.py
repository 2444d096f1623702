"""The journal's SQLite database: opening it (WAL, busy timeout), its versioned schema and
forward migrations, and the :class:`JournalError` every failure becomes.

:class:`genmedia_history.journal.Journal` reads and writes jobs through :func:`open_database`.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 3

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs and the files saved from their results.
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        status TEXT NOT NULL,
        host_status TEXT,
        prompt TEXT,
        input TEXT,
        uploads TEXT,
        status_url TEXT,
        response_url TEXT,
        cancel_url TEXT,
        submitted_at REAL NOT NULL,
        started_at REAL,
        completed_at REAL,
        updated_at REAL NOT NULL,
        error TEXT,
        error_type TEXT,
        result TEXT,
        download_failures TEXT,
        sandbox INTEGER NOT NULL DEFAULT 0,
        UNIQUE (provider, request_id)
    );
    CREATE INDEX jobs_request_id ON jobs (request_id);
    CREATE INDEX jobs_submitted_at ON jobs (submitted_at);
    CREATE INDEX jobs_status ON jobs (status);
    CREATE INDEX jobs_endpoint_id ON jobs (endpoint_id);
    CREATE TABLE files (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        url TEXT NOT NULL,
        json_path TEXT,
        size_bytes INTEGER,
        content_type TEXT,
        sha256 TEXT,
        saved_at REAL NOT NULL,
        UNIQUE (job_id, path)
    );
    """,
    # 2: the batch a job belongs to (``RunRequest.batch``); NULL for a single run and for
    # every job recorded before.
    """
    ALTER TABLE jobs ADD COLUMN batch TEXT;
    CREATE INDEX jobs_batch ON jobs (batch);
    """,
    # 3: the job's handle and the configuration it was made under, whole, whatever the
    # provider and plugins: ``handle_extra`` (``JobHandle.extra`` as JSON, handed back by
    # ``genmedia_find_job``), ``marks`` (``Settings.marks`` as JSON) and ``invocation``
    # (``Settings.invocation``, the words of every hint). Rows recorded before keep NULL
    # there and are read from the version-1 columns (``status_url``, ``response_url``,
    # ``cancel_url``, ``sandbox``), which stay for older genmedias that read the journal.
    """
    ALTER TABLE jobs ADD COLUMN handle_extra TEXT;
    ALTER TABLE jobs ADD COLUMN marks TEXT;
    ALTER TABLE jobs ADD COLUMN invocation TEXT;
    """,
)
assert len(MIGRATIONS) == SCHEMA_VERSION


class JournalError(Exception):
    """The journal cannot be used; ``reason`` is ``corrupt``, ``locked``, ``readonly``,
    ``newer`` (schema from a newer genmedia) or ``unavailable``."""

    def __init__(self, message: str, reason: str, path: Path):
        super().__init__(message)
        self.reason = reason
        self.path = path


def _classify(exc: BaseException) -> str:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return "locked"
    if "readonly" in text or "read-only" in text or "permission" in text:
        return "readonly"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return "corrupt"
    return "unavailable"


@contextmanager
def open_database(path: Path, busy_timeout: float, *, write: bool) -> Iterator[sqlite3.Connection]:
    """A connection to the journal at ``path``, the schema migrated (for ``write``) and
    checked, closed when the block ends."""
    conn = open_writer(path, busy_timeout) if write else _open_reader(path, busy_timeout)
    try:
        yield conn
    except sqlite3.Error as exc:
        raise _error(exc, path) from None
    finally:
        conn.close()


def open_writer(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A connection that writes the journal at ``path`` (created private if missing), the
    schema migrated; the caller closes it. It may be shared by threads (the caller
    serializes its use): :class:`~genmedia_history.journal.Journal` keeps one per process
    for a whole run (:meth:`~genmedia_history.journal.Journal.keep_open`)."""
    try:
        _create_private(path)
        conn = sqlite3.connect(
            str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except (sqlite3.Error, OSError) as exc:
        raise _error(exc, path) from None
    return _prepared(conn, path, busy_timeout, write=True)


def _open_reader(path: Path, busy_timeout: float) -> sqlite3.Connection:
    if not path.is_file():
        raise JournalError("no job recorded yet", "empty", path)
    try:
        conn = _connect_read_only(path, busy_timeout)
    except (sqlite3.Error, OSError) as exc:
        raise _error(exc, path) from None
    return _prepared(conn, path, busy_timeout, write=False)


def _prepared(
    conn: sqlite3.Connection, path: Path, busy_timeout: float, *, write: bool
) -> sqlite3.Connection:
    """``conn`` set up and its schema checked (migrated when ``write``); closed on failure."""
    try:
        _setup(conn, busy_timeout)
        _migrate(conn, path, busy_timeout, write=write)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise _error(exc, path) from None
        raise
    return conn


def _setup(conn: sqlite3.Connection, busy_timeout: float) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL + NORMAL: a commit survives any crash or kill of the process (the WAL is in the
    # OS page cache); only an OS crash or power loss could drop the last transactions,
    # until the next checkpoint syncs them. A write that must survive those too (the row
    # written at submit) commits with synchronous = FULL: one fdatasync of the WAL.
    conn.execute("PRAGMA synchronous = NORMAL")


def _create_private(path: Path) -> None:
    """The journal holds prompts and result URLs: its directory is created 0700 and
    the database 0600 before SQLite opens it (SQLite gives the ``-wal`` and ``-shm``
    files the database's mode). An existing journal readable by others is tightened."""
    parent = path.parent
    if not parent.is_dir():
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not hasattr(os, "fchmod"):  # pragma: no cover - Windows: ACLs, not modes
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        return  # read-only place or a symlink: sqlite reports what is wrong
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        try:
            if side.stat().st_mode & 0o077:
                os.chmod(side, 0o600)
        except OSError:
            pass


def _connect_read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """Readers never write: ``mode=ro`` (list a journal another user owns or one on a
    read-only mount); where even the ``-shm`` cannot be created, ``immutable=1``."""
    from urllib.parse import quote

    uri = "file:" + quote(str(path.absolute()))
    try:
        conn = sqlite3.connect(
            uri + "?mode=ro", uri=True, timeout=busy_timeout, isolation_level=None
        )
        conn.execute("PRAGMA user_version").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if _classify(exc) in ("locked", "corrupt"):
            raise
    return sqlite3.connect(
        uri + "?immutable=1", uri=True, timeout=busy_timeout, isolation_level=None
    )


def _error(exc: BaseException, path: Path) -> JournalError:
    reason = _classify(exc)
    return JournalError(f"{exc}", reason, path)


def _migrate(conn: sqlite3.Connection, path: Path, busy_timeout: float, *, write: bool) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        if write:
            raise JournalError(
                f"schema version {version} is newer than this genmedia's ({SCHEMA_VERSION})",
                "newer",
                path,
            )
        return
    if version == SCHEMA_VERSION:
        return
    if not write:
        # Nothing recorded yet by this version (or an empty file): readers see no jobs.
        if version == 0:
            raise JournalError("the journal is empty", "empty", path)
        return
    use_wal(conn, busy_timeout)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def use_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Put a new journal in WAL mode, retrying for up to ``busy_timeout`` seconds.

    The switch needs an exclusive lock. When several processes create the journal at
    once, two of them may each hold a shared lock and want the exclusive one: SQLite then
    answers one ``database is locked`` at once, without calling its busy handler (waiting
    would deadlock), however long the busy timeout. That one lets go of its lock, waits a
    little and looks again (the other may have switched the mode already)."""
    deadline = time.monotonic() + busy_timeout
    delay = 0.002
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if _classify(exc) != "locked" or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
