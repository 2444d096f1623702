"""Journals as older schemas left them, and raw reads of a journal file, for the
migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from genmedia_history.journal import MIGRATIONS


def journal_at(path: Path, version: int, rows: list[dict[str, Any]]) -> Path:
    """A journal as schema ``version`` left it (its migrations exactly as they shipped),
    holding ``rows`` in ``jobs`` (a pending job submitted at 1000 unless a row says)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        for script in MIGRATIONS[:version]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version = {int(version)}")
        for row in rows:
            row = {"status": "pending", "submitted_at": 1000.0, "updated_at": 1000.0, **row}
            conn.execute(
                f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
    finally:
        conn.close()
    return path


def raw(path: Path, sql: str) -> list[sqlite3.Row]:
    """The rows ``sql`` reads from the journal file, past the journal's own code."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def version(path: Path) -> int:
    """The journal file's schema version (``PRAGMA user_version``)."""
    return int(raw(path, "PRAGMA user_version")[0][0])
