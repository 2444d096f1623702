"""The journal's records and the helpers that shape what is stored.

Pure data and functions (no sqlite3; :func:`list_sql` only writes the query of
``history list``'s filters), shared by :mod:`genmedia_history.journal` and the commands.
States: see :mod:`genmedia_history.journal` and docs/history.md.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

UNFINISHED = ("pending", "in_queue", "in_progress", "interrupted", "timeout", "error")
FINISHED = ("completed", "failed", "cancelled")
STATES = UNFINISHED + FINISHED
#: ``--status pending`` is the umbrella for every unfinished state.
PENDING = "pending"


@attrs.frozen
class FileRecord:
    """A file saved from a job's result."""

    path: str
    url: str
    json_path: str | None = None
    size_bytes: int | None = None
    content_type: str | None = None
    sha256: str | None = None
    saved_at: float | None = None


def file_record(data: Any) -> FileRecord:
    """A saved file as a sink reported it (unstructured ``SavedFile``) → :class:`FileRecord`:
    a local path made absolute and hashed if the sink gave no SHA-256; a remote one
    (``s3://…``) kept as written."""
    data = data if isinstance(data, dict) else {}
    path = str(data.get("path") or "")
    remote = "://" in path  # an object a sink put elsewhere (s3://…): kept as written
    sha = data.get("sha256")
    if not sha and path and not remote:
        sha = sha256_of(path)
    size = data.get("size_bytes")
    return FileRecord(
        path=str(Path(path).resolve()) if path and not remote else path,
        url=str(data.get("url") or ""),
        json_path=data.get("json_path"),
        size_bytes=size if isinstance(size, int) else None,
        content_type=data.get("content_type"),
        sha256=sha,
        saved_at=time.time(),
    )


def sha256_of(path: str) -> str | None:
    """The SHA-256 of the file at ``path``; None if it cannot be read."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


@attrs.frozen
class JobRecord:
    """One row of the journal (JSON columns decoded, times as Unix seconds)."""

    id: int
    provider: str
    endpoint_id: str
    request_id: str
    status: str
    submitted_at: float
    updated_at: float
    host_status: str | None = None
    prompt: str | None = None
    input: dict[str, Any] | None = None
    uploads: list[dict[str, Any]] | None = None
    #: ``JobHandle.extra``: what the provider needs besides the ids (its own keys).
    extra: dict[str, str] = attrs.field(factory=dict)
    started_at: float | None = None
    completed_at: float | None = None
    error: str | None = None
    error_type: str | None = None
    result: dict[str, Any] | None = None
    download_failures: list[dict[str, Any]] | None = None
    #: the output marks the job was made under (``Settings.marks``), e.g. a plugin's
    #: ``{"sandbox": true}``; empty for a plain run.
    marks: dict[str, Any] = attrs.field(factory=dict)
    #: the command words of the invocation that made it (``Settings.invocation``): hints
    #: to reach the job again start with them. None for a job recorded before schema 3
    #: without marks (plain ``genmedia``).
    invocation: str | None = None
    #: the id of the batch the job belongs to (``genmedia batch``); None for a single run.
    batch: str | None = None
    files: list[FileRecord] = attrs.field(factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


@attrs.frozen
class Query:
    """Filters of ``history list``."""

    endpoint: str | None = None
    statuses: tuple[str, ...] = ()
    since: float | None = None
    text: str | None = None
    batch: str | None = None
    limit: int | None = 20


JSON_COLUMNS = ("input", "uploads", "result", "download_failures", "handle_extra", "marks")

#: The version-1 columns a row recorded before schema 3 keeps its handle in (the only
#: provider of the time was fal, whose ``JobHandle.extra`` held these three URLs).
LEGACY_EXTRA_COLUMNS = ("status_url", "response_url", "cancel_url")
#: Before schema 3 the one output mark of the time, the sandbox plugin's, was the
#: ``sandbox`` column: a row with it set was made under these marks and invocation.
LEGACY_MARKED = ({"sandbox": True}, "genmedia --sandbox")


def from_row(data: dict[str, Any]) -> dict[str, Any]:
    """A row's columns (JSON decoded) → :class:`JobRecord`'s fields: ``extra``, ``marks``
    and ``invocation`` from their schema-3 columns, else (a row recorded before, or a
    journal only read, never migrated) from the version-1 columns."""
    legacy_urls = {k: data.pop(k, None) for k in LEGACY_EXTRA_COLUMNS}
    legacy_marked = bool(data.pop("sandbox", None))
    extra = data.pop("handle_extra", None)
    if not isinstance(extra, dict):
        extra = {k: str(v) for k, v in legacy_urls.items() if v}
    data["extra"] = {str(k): str(v) for k, v in extra.items() if v is not None}
    marks = data.get("marks")
    if not isinstance(marks, dict):
        marks, invocation = LEGACY_MARKED if legacy_marked else ({}, None)
        data["marks"] = dict(marks)
        data["invocation"] = data.get("invocation") or invocation
    return data


def list_sql(query: Query) -> tuple[str, list[Any]]:
    """The ``SELECT`` of the jobs matching ``query``, newest first, and its arguments."""
    where: list[str] = []
    args: list[Any] = []
    if query.endpoint:
        if any(c in query.endpoint for c in "*?["):
            where.append("endpoint_id GLOB ?")
            args.append(query.endpoint)
        else:
            where.append("(endpoint_id = ? OR endpoint_id LIKE ? ESCAPE '\\')")
            args += [query.endpoint, like_escape(query.endpoint.rstrip("/")) + "/%"]
    if query.statuses:
        wanted: list[str] = []
        for s in query.statuses:
            wanted.extend(UNFINISHED if s == PENDING else (s,))
        where.append(f"status IN ({', '.join('?' * len(wanted))})")
        args += wanted
    if query.since is not None:
        where.append("submitted_at >= ?")
        args.append(query.since)
    if query.text:
        for word in query.text.split():
            where.append("prompt LIKE ? ESCAPE '\\'")
            args.append(f"%{like_escape(word)}%")
    if query.batch is not None:
        where.append("batch = ?")
        args.append(query.batch)
    sql = "SELECT * FROM jobs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY submitted_at DESC, id DESC"
    if query.limit:
        sql += f" LIMIT {int(query.limit)}"
    return sql, args


# --------------------------------------------------------------------------- helpers


_DATA_URI = re.compile(r"^data:([^;,]*)[;,]", re.IGNORECASE)


#: strings longer than this are stored as an excerpt with their size and sha256.
MAX_STORED_TEXT = 16 * 1024
EXCERPT_CHARS = 1024


def excerpt(value: str) -> str:
    """``value`` if short; else its first :data:`EXCERPT_CHARS` characters, then its
    size and sha256, so a 100 MB prompt costs the journal about 1 KiB."""
    if len(value) <= MAX_STORED_TEXT:
        return value
    import hashlib

    data = value.encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(data).hexdigest()
    return (
        f"{value[:EXCERPT_CHARS]}…<{len(data)} bytes, sha256 {digest}; "
        f"only the first {EXCERPT_CHARS} characters stored>"
    )


def strip_media(value: Any) -> Any:
    """A copy of ``value`` with long ``data:`` URIs (inline media bytes) replaced and any
    other long string cut to an :func:`excerpt`."""
    if isinstance(value, str):
        if len(value) > 256 and value[:5].lower() == "data:":
            m = _DATA_URI.match(value)
            mime = m.group(1) if m else ""
            return f"data:{mime};<{len(value)} characters not stored>"
        return excerpt(value)
    if isinstance(value, Mapping):
        return {k: strip_media(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strip_media(v) for v in value]
    return value


def prompt_text(inputs: Mapping[str, Any] | None) -> str | None:
    """The text ``history TEXT`` searches: ``prompt`` and other ``*_prompt``/``text`` inputs
    (a negative prompt is not what the user is looking for)."""
    if not inputs:
        return None
    parts = []
    for key, value in inputs.items():
        if not isinstance(value, str) or not value:
            continue
        if key == "prompt" or key == "text" or (key.endswith("prompt") and "negative" not in key):
            parts.append(excerpt(value))
    return "\n".join(parts) or None


def dumps_stored(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(strip_media(value), ensure_ascii=False, default=str, sort_keys=False)


def like_escape(text: str) -> str:
    """``text`` as a literal inside a ``LIKE … ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
