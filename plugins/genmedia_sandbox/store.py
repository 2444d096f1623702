"""The emulator's state on disk: one SQLite database (WAL mode) plus a directory of files.

Layout of a store directory (``$GENMEDIA_SANDBOX_HOME``, default ``<user data dir>/sandbox``)::

    state.sqlite3        jobs, file records, the assets library, keys, CDN tokens
    state.sqlite3-wal    SQLite's write-ahead log (WAL mode)
    files/               the bytes of uploads and generated outputs (one file per key)
    webhook-key.pem      the Ed25519 key that signs webhook deliveries (0600)

Why SQLite in WAL mode: many ``genmedia --sandbox`` processes (each with its own
in-process emulator) and ``genmedia sandbox serve`` share one store at once. WAL lets
readers run while one writer commits; every read-modify-write (the assets library, a
job's completion) runs inside ``BEGIN IMMEDIATE`` so two processes never interleave
one; ``busy_timeout`` makes a second writer wait instead of failing. No lock files.

The emulator's own base URL (it changes with the port of each process) is stored as
the placeholder ``sandbox-base:`` and rendered with the current base URL when read,
so a result or asset stored by one process has working URLs in the next one.

Test fixtures use a private temporary store (deleted at stop); ``--sandbox`` and
``sandbox serve`` use the persistent one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PLACEHOLDER = "sandbox-base:"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    request_id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    completed_at REAL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, created_at REAL NOT NULL);
"""


class Store:
    """One store directory. Thread-safe; safe to share between processes."""

    def __init__(self, root: Path, *, temporary: bool = False) -> None:
        self.root = Path(root)
        self.temporary = temporary
        self.files_dir = self.root / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self.root, 0o700)
        self.base_url = ""
        self._lock = threading.RLock()
        self.db_path = self.root / "state.sqlite3"
        # 0600 from the start (SQLite gives its -wal/-shm files the database's mode)
        os.close(os.open(self.db_path, os.O_RDWR | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(
            self.db_path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)

    @classmethod
    def temporary_store(cls) -> Store:
        import tempfile

        return cls(Path(tempfile.mkdtemp(prefix="genmedia-sandbox-")), temporary=True)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- transactions ----------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error), serialised across processes."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # -- URL placeholders --------------------------------------------------------------
    def dumps(self, value: Any) -> str:
        text = json.dumps(value)
        return text.replace(self.base_url, PLACEHOLDER) if self.base_url else text

    def loads(self, text: str) -> Any:
        return json.loads(text.replace(PLACEHOLDER, self.base_url))

    # -- jobs ------------------------------------------------------------------------
    def save_job(self, data: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                (data["request_id"], data["endpoint_id"], data["status"], data["created_at"],
                 data.get("completed_at"), self.dumps(data)),
            )  # fmt: skip

    def complete_job(self, data: dict[str, Any]) -> dict[str, Any]:
        """Store a completed job unless another process completed it first; returns the winner."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT status, data FROM jobs WHERE request_id = ?", (data["request_id"],)
            ).fetchone()
            if row is not None and row[0] == "COMPLETED":
                won: dict[str, Any] = self.loads(row[1])
                return won
            db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                (data["request_id"], data["endpoint_id"], "COMPLETED", data["created_at"],
                 data.get("completed_at"), self.dumps(data)),
            )  # fmt: skip
        return data

    def load_job(self, request_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT data FROM jobs WHERE request_id = ?", (request_id,))
        return self.loads(rows[0][0]) if rows else None

    def job_counts(self) -> dict[str, int]:
        return dict(self._query("SELECT status, COUNT(*) FROM jobs GROUP BY status"))

    def list_jobs(self) -> list[dict[str, Any]]:
        return [self.loads(r[0]) for r in self._query("SELECT data FROM jobs ORDER BY created_at")]

    # -- files -----------------------------------------------------------------------
    def save_file(self, key: str, data: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO files VALUES (?, ?)", (key, json.dumps(data)))

    def load_file(self, key: str) -> dict[str, Any] | None:
        rows = self._query("SELECT data FROM files WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else None

    def file_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM files")[0][0])

    # -- named documents (the assets library) -------------------------------------------
    def get_doc(self, db: sqlite3.Connection, name: str) -> Any:
        row = db.execute("SELECT data FROM kv WHERE name = ?", (name,)).fetchone()
        return self.loads(row[0]) if row else None

    def put_doc(self, db: sqlite3.Connection, name: str, value: Any) -> None:
        db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (name, self.dumps(value)))

    def read_doc(self, name: str) -> Any:
        rows = self._query("SELECT data FROM kv WHERE name = ?", (name,))
        return self.loads(rows[0][0]) if rows else None

    # -- keys and CDN tokens ----------------------------------------------------------------
    def add_key(self, key: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO keys VALUES (?, ?)", (key, time.time()))

    def has_key(self, key: str) -> bool:
        return bool(self._query("SELECT 1 FROM keys WHERE key = ?", (key,)))

    def add_token(self, token: str, expires_at: float) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM tokens WHERE expires_at < ?", (time.time() - 86400,))
            db.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?)", (token, expires_at))

    def token_expiry(self, token: str) -> float | None:
        rows = self._query("SELECT expires_at FROM tokens WHERE token = ?", (token,))
        return float(rows[0][0]) if rows else None

    # -- whole store ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every job, file, asset, key and token (the signing key stays)."""
        with self.transaction() as db:
            for table in ("jobs", "files", "kv", "tokens", "keys"):
                db.execute(f"DELETE FROM {table}")
        for child in self.files_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def summary(self) -> dict[str, Any]:
        size = sum(p.stat().st_size for p in self.files_dir.iterdir() if p.is_file())
        library = self.read_doc("assets") or {}
        return {
            "home": str(self.root),
            "database": str(self.db_path),
            "jobs": self.job_counts(),
            "files": self.file_count(),
            "file_bytes": size,
            "assets": len(library.get("assets", {})),
            "tags": len(library.get("tags", {})),
            "collections": sum(
                1 for c in library.get("collections", {}).values() if c.get("type") != "character"
            ),
            "characters": sum(
                1 for c in library.get("collections", {}).values() if c.get("type") == "character"
            ),
            "registered_keys": int(self._query("SELECT COUNT(*) FROM keys")[0][0]),
        }
