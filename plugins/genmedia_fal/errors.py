"""fal error bodies → genmedia errors, and the fal plugin's ``genmedia_format_error``.

Two body shapes (fal-api.md (i)): inference/queue/storage errors are ``{"detail": …}``
(a string, or FastAPI's list of ``{loc, msg, type, input, …}``, optionally with a flat
``error_type``); Platform API errors are ``{"error": {"type", "message", …}}``.

Every error raised here is an instance of a :class:`FalError` subclass of the matching
:mod:`genmedia.errors` class (so the exit code is the core's), with upstream genmedia's
``details``: ``status``, ``error_type``, ``request_id``, ``validation_errors``, ``body``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from genmedia import errors
from genmedia.types import ErrorReport

if TYPE_CHECKING:  # pragma: no cover
    import httpx

#: upstream's order of the keys of an error's ``details``; others follow in their order.
DETAIL_ORDER = (
    "endpoint_id",
    "request_id",
    "status",
    "error_type",
    "validation_errors",
    "routed",
    "logs",
    "body",
)
KEY_HINT = "Set FAL_KEY=<your key> (https://fal.ai/dashboard/keys) or run: genmedia setup"
BODY_TEXT_LIMIT = 2000


class FalError:
    """Marker mixin: this error came from a fal host (the fal formatter orders its details)."""


_CLASSES: dict[type[errors.GenmediaError], type[errors.GenmediaError]] = {}


def fal_class(base: type[errors.GenmediaError]) -> type[errors.GenmediaError]:
    """``base`` with the :class:`FalError` marker (cached, so ``except`` clauses work)."""
    cls = _CLASSES.get(base)
    if cls is None:
        cls = type(f"Fal{base.__name__}", (base, FalError), {})
        _CLASSES[base] = cls
    return cls


def fal_error(
    base: type[errors.GenmediaError], message: str, details: Any = None
) -> errors.GenmediaError:
    return fal_class(base)(message, details)


# --------------------------------------------------------------------------- 422 details


def field_path(loc: Any) -> str:
    """Upstream's field path: ``["body", "a", 0, "b"]`` → ``a[0].b`` (empty → ``body``)."""
    parts = list(loc) if isinstance(loc, (list, tuple)) else [loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    out = ""
    for i, part in enumerate(parts):
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif i == 0:
            out += str(part)
        else:
            out += f".{part}"
    return out or "body"


def validation_errors(body: Any) -> list[dict[str, Any]] | None:
    """``detail`` list items (those with ``msg`` or ``message``) in upstream's shape."""
    if not isinstance(body, Mapping) or not isinstance(body.get("detail"), list):
        return None
    found = []
    for item in body["detail"]:
        if not isinstance(item, Mapping):
            continue
        msg = item.get("msg", item.get("message"))
        if not isinstance(msg, str):
            continue
        entry: dict[str, Any] = {"field": field_path(item.get("loc") or []), "message": msg}
        if "type" in item:
            entry["type"] = item["type"]
        if "input" in item:
            entry["input"] = item["input"]
        found.append(entry)
    return found or None


def validation_message(issues: list[dict[str, Any]]) -> str:
    if len(issues) == 1:
        return f"Validation error — {issues[0]['field']}: {issues[0]['message']}"
    return f"Validation error — {len(issues)} problems with the input"


# --------------------------------------------------------------------------- responses


def parse_body(response: httpx.Response) -> Any:
    """JSON whatever the content type says (like fal_client), else the text (truncated)."""
    try:
        raw = response.read()
    except Exception:
        return None
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace")
        return text if len(text) <= BODY_TEXT_LIMIT else text[:BODY_TEXT_LIMIT] + "…"


def body_message(body: Any) -> str | None:
    if isinstance(body, Mapping):
        for key in ("detail", "message"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
        err = body.get("error")
        if isinstance(err, str) and err:
            return err
        if isinstance(err, Mapping) and isinstance(err.get("message"), str):
            return str(err["message"])
    return None


def error_type_of(status: int, body: Any, headers: Mapping[str, str]) -> str:
    """fal's machine error type when it gives one, else upstream's ValidationError/ApiError."""
    if isinstance(body, Mapping):
        if isinstance(body.get("error_type"), str):
            return str(body["error_type"])
        err = body.get("error")
        if isinstance(err, Mapping) and isinstance(err.get("type"), str):
            return str(err["type"])
    header = headers.get("x-fal-error-type")
    if header:
        return header
    return "ValidationError" if status == 422 else "ApiError"


def error_from_response(
    response: httpx.Response, *, what: str | None = None, **context: Any
) -> errors.GenmediaError:
    """A non-2xx fal response → the matching genmedia error with upstream's details."""
    import httpx

    status = response.status_code
    body = parse_body(response)
    headers = response.headers
    details: dict[str, Any] = {k: v for k, v in context.items() if v is not None}
    request_id = headers.get("x-fal-request-id")
    if request_id is None and isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        request_id = body["error"].get("request_id")
    if request_id:
        details.setdefault("request_id", request_id)
    details["status"] = status
    details["error_type"] = error_type_of(status, body, headers)
    issues = validation_errors(body)
    if issues:
        details["validation_errors"] = issues
    if headers.get("x-fal-request-timeout-type"):
        details["timeout_type"] = headers["x-fal-request-timeout-type"]
    if body is not None:
        details["body"] = body
    reason = httpx.codes.get_reason_phrase(status) or "Error"
    if issues and status in (400, 422):
        message = validation_message(issues)
    else:
        message = body_message(body) or f"HTTP {status}: {reason}"
    if what and not issues:
        message = f"{what}: {message}"
    base = errors.for_status(status)
    if status in (401, 403):
        details["hint"] = KEY_HINT
    elif status == 429:
        details["hint"] = "Rate limited by fal; genmedia already retried. Wait and try again."
    return fal_error(base, message, details)


def network_error(exc: BaseException, url: str, *, what: str) -> errors.GenmediaError:
    """A transport failure (after retries) → NetworkError with the URL (never the key)."""
    return fal_error(
        errors.NetworkError,
        f"{what}: {type(exc).__name__}: {exc}" if str(exc) else f"{what}: {type(exc).__name__}",
        {"url": url.split("?", 1)[0]},
    )


# --------------------------------------------------------------------------- hook


def format_error(error: BaseException) -> ErrorReport | None:
    """``genmedia_format_error`` for fal errors: upstream's key order in ``details``."""
    if not isinstance(error, FalError) or not isinstance(error, errors.GenmediaError):
        return None
    details = error.details
    if isinstance(details, dict):
        ordered = {k: details[k] for k in DETAIL_ORDER if k in details}
        ordered.update((k, v) for k, v in details.items() if k not in ordered)
        details = ordered
    return ErrorReport(error.message, details or None, error.exit_code)
