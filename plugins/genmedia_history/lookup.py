"""Which job a reference names: ``last``, a request id, a row id, or a unique prefix of
a request id (6+ characters), for ``genmedia status REFERENCE`` and ``history show``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from genmedia_history.database import JournalError
from genmedia_history.records import like_escape


def lookup(conn: sqlite3.Connection, reference: str, path: Path) -> list[sqlite3.Row]:
    """The rows ``reference`` names, the one to use first; raises ``ambiguous``.

    Precedence: ``last``; a whole request id (its newest row); then a row id and a prefix
    of a request id together. A reference made of digits may be both (``01934512`` of
    ``01934512-…``, as time-ordered ids and 2% of uuid4s start): naming two different
    jobs is ambiguous, never a silent choice of one.
    """
    if reference == "last":
        return conn.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT 1").fetchall()
    rows = conn.execute(
        "SELECT * FROM jobs WHERE request_id = ? ORDER BY id DESC", (reference,)
    ).fetchall()
    if rows:
        return rows
    by_id: list[sqlite3.Row] = []
    if reference.isascii() and reference.isdigit() and len(reference) <= 18:
        # a row id (SQLite integers are 64-bit); longer digit strings are request ids
        by_id = conn.execute("SELECT * FROM jobs WHERE id = ?", (int(reference),)).fetchall()
    by_prefix: list[sqlite3.Row] = []
    if len(reference) >= 6:
        # the newest row of (at most) two request ids starting so: two is ambiguous
        by_prefix = conn.execute(
            "SELECT * FROM jobs WHERE id IN (SELECT MAX(id) FROM jobs"
            " WHERE request_id LIKE ? ESCAPE '\\' GROUP BY request_id"
            " ORDER BY MAX(id) DESC LIMIT 2) ORDER BY id DESC",
            (like_escape(reference) + "%",),
        ).fetchall()
    if len(by_prefix) > 1:
        raise JournalError(f"{reference!r} matches several request ids", "ambiguous", path)
    if by_id and by_prefix and by_prefix[0]["request_id"] != by_id[0]["request_id"]:
        raise JournalError(
            f"{reference!r} is both job id {by_id[0]['id']} and the start of request id"
            f" {by_prefix[0]['request_id']}",
            "ambiguous",
            path,
        )
    return by_id or by_prefix
