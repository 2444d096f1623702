"""The journal's connections: a new one per operation, or one kept open for a whole run.

:class:`Connections` is what :class:`genmedia_history.journal.Journal` writes and reads
through. Opening a connection costs a few system calls, and closing the last one to a
database checkpoints the WAL (two fdatasync); a run therefore keeps one open
(:meth:`Connections.keep_open`) until it ends, instead of one per write.

Durability: a transaction opened with ``durable=True`` commits with ``synchronous = FULL``
(the WAL is synced before the commit returns: the row written at submit); every other one
with ``NORMAL`` (it survives a crash or kill of the process and is synced by the next
checkpoint). Transactions are short ``BEGIN IMMEDIATE`` ones, so readers in other
processes are never blocked and writers wait at most the busy timeout; a kept-open
connection may be shared by threads, one transaction at a time.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from genmedia_history.database import (
    SCHEMA_VERSION,
    JournalError,
    _error,
    open_database,
    open_writer,
)

#: connections inherited through fork: kept referenced, never used or closed by the child.
_INHERITED: list[sqlite3.Connection] = []


class _HasPath(Protocol):
    path: Path
    busy_timeout: float


class Connections:
    """The connections to a journal (its ``path`` and ``busy_timeout``)."""

    def __init__(self, journal: _HasPath) -> None:
        self.path: Path = journal.path
        self.busy_timeout: float = journal.busy_timeout
        self._keep = False
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.RLock()
        self._txn: sqlite3.Connection | None = None

    def keep_open(self) -> None:
        """Share one writing connection between all writes until :meth:`close`; it is
        opened by the first write (a run that records nothing opens nothing)."""
        self._keep = True

    def close(self) -> None:
        """Close the kept-open connection (SQLite checkpoints the WAL if it was the last
        connection to the journal) and go back to a connection per operation."""
        with self._lock:
            self._keep = False
            if self._pid == os.getpid():
                self._drop()
            elif self._conn is not None:  # inherited through fork: the parent closes it
                _INHERITED.append(self._conn)
            self._conn = None

    @contextmanager
    def batch(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction; what is written inside it (nested batches included)
        commits together. ``durable``: commit with ``synchronous = FULL``."""
        with self._lock:
            if self._txn is not None:  # nested: part of the enclosing transaction
                yield self._txn
                return
            conn = self._writer()
            kept = conn is self._conn
            try:
                try:
                    if durable:
                        conn.execute("PRAGMA synchronous = FULL")
                    conn.execute("BEGIN IMMEDIATE")
                    self._txn = conn
                    try:
                        self._check_version(conn)
                        yield conn
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                    finally:
                        self._txn = None
                finally:
                    if durable:
                        _quietly(conn, "PRAGMA synchronous = NORMAL")
            except (sqlite3.Error, JournalError) as exc:
                error = exc if isinstance(exc, JournalError) else _error(exc, self.path)
                if kept and error.reason != "locked":
                    self._drop()  # a connection that failed is not reused
                if error is exc:
                    raise
                raise error from None
            finally:
                if not kept:
                    conn.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection of the transaction in progress or the kept-open one (they see
        this process's writes), else a new read-only connection."""
        with self._lock:
            conn = self._txn
            if conn is None and self._conn is not None and self._pid == os.getpid():
                conn = self._conn
            if conn is not None:
                try:
                    yield conn
                except sqlite3.Error as exc:
                    raise _error(exc, self.path) from None
                return
        with open_database(self.path, self.busy_timeout, write=False) as conn:
            yield conn

    def _check_version(self, conn: sqlite3.Connection) -> None:
        """Another genmedia may have migrated the schema since the connection opened."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"schema version {version} is newer than this genmedia's ({SCHEMA_VERSION})",
                "newer",
                self.path,
            )

    def _writer(self) -> sqlite3.Connection:
        """The kept-open connection (opened now if needed), or a new one to close."""
        if not self._keep:
            return open_writer(self.path, self.busy_timeout)
        if self._conn is not None and self._pid != os.getpid():
            # inherited through fork: never used nor closed here (the parent owns it)
            _INHERITED.append(self._conn)
            self._conn = None
        if self._conn is None:
            self._conn = open_writer(self.path, self.busy_timeout)
            self._pid = os.getpid()
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass


def _quietly(conn: sqlite3.Connection, sql: str) -> None:
    try:
        conn.execute(sql)
    except sqlite3.Error:
        pass
