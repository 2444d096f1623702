"""The output marks and command words a batch was made under, in the batch journal.

``batches.marks`` (``Settings.marks`` as JSON) and ``batches.invocation``
(``Settings.invocation``) were added after the first layout: :func:`add_columns` brings an
older ``batches.db`` up to date, and :func:`marks_of` reads a row recorded before them
from the first layout's ``sandbox`` column, which stays.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

#: columns added since the first layout: (table, column, type).
ADDED_COLUMNS = (("batches", "marks", "TEXT"), ("batches", "invocation", "TEXT"))
#: what ``sandbox = 1`` meant in a row recorded before ``marks`` existed: the one output
#: mark of the time, the sandbox plugin's, and its command words.
LEGACY_MARKED = ({"sandbox": True}, "genmedia --sandbox")


def add_columns(conn: sqlite3.Connection) -> None:
    """Add the :data:`ADDED_COLUMNS` a journal lacks (two processes may race: the second
    one's "duplicate column" is success)."""
    for table, column, kind in ADDED_COLUMNS:
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column in have:
            continue
        try:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            conn.commit()
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc).lower():
                raise


def marks_of(row: sqlite3.Row) -> dict[str, Any]:
    """A batch row's ``marks`` and ``invocation`` (``BatchRow`` fields)."""
    if row["marks"] is not None:
        return {"marks": json.loads(row["marks"]), "invocation": row["invocation"] or "genmedia"}
    marks, invocation = LEGACY_MARKED if row["sandbox"] else ({}, "genmedia")
    return {"marks": dict(marks), "invocation": invocation}
