"""What the fal queue says on the wire: endpoint ids, status and log documents, the SSE
status stream, and which failed submits provably created no job.

:mod:`genmedia_fal.queue` drives the requests; this module only reads and checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from genmedia import errors
from genmedia.types import JobStatus, LogEntry
from genmedia_fal import errors as fal_errors

if TYPE_CHECKING:  # pragma: no cover
    import httpx

_LEGACY_ID = re.compile(r"^(\d+)-([A-Za-z0-9_.-]+)$")


# --------------------------------------------------------------------------- endpoint ids


def normalize_endpoint(endpoint_id: str) -> str:
    """``fal:owner/app/path`` → ``owner/app/path``; legacy ``123-name`` → ``123/name``."""
    eid = endpoint_id.strip()
    if eid.startswith("fal:"):
        eid = eid[4:]
    eid = eid.strip("/")
    if "/" in eid:
        return eid
    legacy = _LEGACY_ID.match(eid)
    if legacy:
        return f"{legacy[1]}/{legacy[2]}"
    raise errors.UsageError(
        f"Invalid app id: {endpoint_id}. Must be in the format <appOwner>/<appId>",
        {"endpoint_id": endpoint_id, "example": "fal-ai/flux/dev"},
    )


def app_path(endpoint_id: str) -> str:
    """fal's owner/app rule: ``[workflows|comfy/]owner/app`` — the path is dropped."""
    parts = normalize_endpoint(endpoint_id).split("/")
    keep = 3 if parts[0] in ("workflows", "comfy") else 2
    return "/".join(parts[:keep])


# --------------------------------------------------------------------------- statuses


def parse_log(entry: Any) -> LogEntry | None:
    if isinstance(entry, str):
        return LogEntry(message=entry)
    if not isinstance(entry, Mapping) or entry.get("message") is None:
        return None
    return LogEntry(
        message=str(entry["message"]),
        level=str(entry.get("level") or "INFO"),
        timestamp=entry.get("timestamp") if isinstance(entry.get("timestamp"), str) else None,
    )


def parse_status(data: Any, request_id: str) -> JobStatus:
    """A fal status object (c.2) → :class:`JobStatus`."""
    if not isinstance(data, Mapping) or not isinstance(data.get("status"), str):
        raise fal_errors.fal_error(
            errors.RemoteError,
            "Unexpected status reply from fal",
            {"request_id": request_id, "body": data},
        )
    logs = data.get("logs")
    position = data.get("queue_position")
    return JobStatus(
        status=data["status"],
        request_id=str(data.get("request_id") or request_id),
        queue_position=position
        if isinstance(position, int) and not isinstance(position, bool)
        else None,
        logs=[e for e in map(parse_log, logs) if e is not None] if isinstance(logs, list) else None,
        metrics=data.get("metrics") if isinstance(data.get("metrics"), dict) else None,
        error=str(data["error"]) if data.get("error") else None,
        error_type=str(data["error_type"]) if data.get("error_type") else None,
    )


def iter_sse(lines: Iterator[str]) -> Iterator[str]:
    """The ``data`` payloads of a ``text/event-stream`` (comments and event names skipped)."""
    data: list[str] = []
    for line in lines:
        line = line.rstrip("\r")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def submit_retryable(response: httpx.Response) -> bool:
    """Submit answers that prove no job was created: 429, 503, or an ingress 5xx."""
    status = response.status_code
    if status in (429, 503):
        return True
    return status >= 500 and "x-fal-request-id" not in response.headers


def never_sent(exc: BaseException) -> bool:
    """Whether a submit failed before its body left this machine (safe to send again)."""
    import httpx

    # Connect failures and pool timeouts happen before a byte of the body left.
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
