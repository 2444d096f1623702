"""Past runs as a run store hands them to other plugins (public; see ``genmedia_list_runs``).

A plugin that remembers runs (the built-in ``history`` journal) answers
``genmedia_list_runs`` with :class:`RunRecord` objects; a plugin that shows or exports
runs (the built-in ``gallery``) asks for them with a :class:`RunQuery`, without importing
the store. :func:`parse_since` is the one reading of ``--since`` values;
:func:`same_marks`, :func:`marks_text` and :func:`set_marks` compare and name the output
marks a run (or a batch) was made under, whatever plugins made them (``Settings.marks``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs


@attrs.frozen
class RunQuery:
    """Which runs to list; every filter that is set must match.

    ``endpoint``: an endpoint id, a prefix (``fal-ai/flux`` matches ``fal-ai/flux/dev``)
    or a glob (``*``, ``?``, ``[``). ``statuses``: the store's states (``pending`` meaning
    every unfinished one). ``since``: Unix seconds. ``text``: words that must all occur in
    the prompt. ``batch``: a batch id. ``limit``: at most this many, newest first (None:
    all).
    """

    endpoint: str | None = None
    statuses: tuple[str, ...] = ()
    since: float | None = None
    text: str | None = None
    batch: str | None = None
    limit: int | None = None


@attrs.frozen
class RunFile:
    """A file saved from a run's result (by an output sink such as ``--download``)."""

    path: str
    url: str
    json_path: str | None = None
    size_bytes: int | None = None
    content_type: str | None = None
    sha256: str | None = None


@attrs.frozen
class RunRecord:
    """One remembered run: what was asked, what came of it, what was saved.

    ``status`` is the store's state (``completed``, ``failed``, ``cancelled`` or an
    unfinished one); times are Unix seconds; ``result`` is the model's output JSON when
    the run completed; ``marks`` are the output marks the run was made under (an
    emulator plugin's ``{"sandbox": true}``, see ``Settings.marks``), in JSON beside the
    other keys; ``invocation`` the command words it was made under
    (``Settings.invocation``, e.g. ``genmedia --sandbox``; None when the store does not
    know them): a command that reproduces or reaches the run starts with them.
    """

    provider: str
    endpoint_id: str
    request_id: str
    status: str
    submitted_at: float
    completed_at: float | None = None
    prompt: str | None = None
    input: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    files: list[RunFile] = attrs.field(factory=list)
    marks: dict[str, Any] = attrs.field(factory=dict, metadata={"flatten": True})
    batch: str | None = None
    invocation: str | None = None


def same_marks(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Whether two sets of output marks are the same, compared as a whole and as they are
    stored (JSON): a run made under ``{"sandbox": true}`` is reached under those marks."""
    return bool(_as_json(recorded) == _as_json(current))


def set_marks(marks: Mapping[str, Any]) -> list[str]:
    """The names of the marks that are set (a true value), in order: ``["sandbox"]``."""
    return [str(key) for key, value in marks.items() if value]


def marks_text(marks: Mapping[str, Any]) -> str:
    """Marks as words in a message: their JSON (``{"sandbox": true}``), or ``none``."""
    return json.dumps(_as_json(marks), ensure_ascii=False) if marks else "none"


def _as_json(marks: Mapping[str, Any]) -> Any:
    return json.loads(json.dumps(dict(marks), ensure_ascii=False, default=str))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|week|weeks)\s*$")
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
_UNIT_SECONDS.update({"d": 86400, "day": 86400, "days": 86400})
_UNIT_SECONDS.update({"w": 604800, "week": 604800, "weeks": 604800})


def parse_since(value: str, *, now: float | None = None) -> float:
    """``30m``, ``2h``, ``7d``, ``1w``, ``today``, ``yesterday``, an ISO date or date-time
    (local time unless it names a zone) → Unix seconds; a :class:`UsageError` otherwise."""
    from genmedia import errors

    now = time.time() if now is None else now
    text = value.strip().lower()
    m = _DURATION.match(text)
    if m:
        return now - float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if text in ("today", "yesterday"):
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if text == "yesterday":
            midnight -= timedelta(days=1)
        return midnight.timestamp()
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.UsageError(
            f"Invalid --since: {value!r}",
            {"hint": "a duration (30m, 2h, 7d, 1w), today, yesterday or an ISO date/time"},
        ) from None
    return moment.timestamp()
