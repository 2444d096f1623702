"""Rendering: one JSON document on stdout, or a pretty view; errors on stderr.

JSON mode prints exactly one JSON document (2-space indent) on stdout. Progress, logs and
warnings go to stderr. ``--field PATH`` prints one value of the document instead (strings
raw, like ``jq -r``; anything else as JSON). Output made against the sandbox carries
``"sandbox": true`` and, in pretty mode, a banner on stderr.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from genmedia.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from genmedia.context import AppContext
    from genmedia.types import ErrorReport

PrettyRenderer = Callable[[Any, "Console"], None]

SANDBOX_BANNER = (
    "SANDBOX: results come from the local fal emulator (placeholder media, no real "
    "generation, nothing billed)."
)

_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")


def parse_field_path(path: str) -> list[str | int]:
    """``result.images[0].url`` → ``["result", "images", 0, "url"]``; ``a[-1]`` allowed."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m or m.end() == pos:
            raise UsageError(f"Invalid --field path: {path}", {"field": path, "at": pos})
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts:
        raise UsageError("Invalid --field path: empty", {"field": path})
    return parts


def extract_field(data: Any, path: str) -> Any:
    """The value at ``path`` in ``data``; a missing path is a :class:`UsageError`."""
    value = data
    walked = ""
    for part in parse_field_path(path):
        try:
            if isinstance(part, int):
                if not isinstance(value, list):
                    raise KeyError(part)
                value = value[part]
                walked += f"[{part}]"
            else:
                if not isinstance(value, dict):
                    raise KeyError(part)
                value = value[part]
                walked += f".{part}" if walked else part
        except (KeyError, IndexError):
            raise UsageError(
                f"Field not found: {path}",
                {"field": path, "found_up_to": walked or None, "missing": part},
            ) from None
    return value


def stderr_console(ctx: AppContext) -> Console:
    """A rich console on stderr. Markup is off: text from users, models and servers is
    printed as is (``[/x]`` in a prompt must neither vanish nor crash); styled lines pass
    ``markup=True`` and :func:`esc` every value they interpolate."""
    from rich.console import Console

    return Console(file=ctx.stderr, stderr=True, highlight=False, soft_wrap=True, markup=False)


def stdout_console(ctx: AppContext) -> Console:
    """A rich console on stdout, markup off (see :func:`stderr_console`)."""
    from rich.console import Console

    return Console(file=ctx.stdout, highlight=False, soft_wrap=True, markup=False)


def esc(value: Any) -> str:
    """``value`` as text that is safe inside rich markup."""
    from rich.markup import escape

    return escape(str(value))


def emit(ctx: AppContext, data: Any, *, pretty: PrettyRenderer | None = None) -> None:
    """Print a command's result: JSON (one document), ``--field``, or the pretty view."""
    from genmedia.serialization import unstructure

    doc = unstructure(data)
    if ctx.sandbox_active and isinstance(doc, dict):
        doc.setdefault("sandbox", True)
    if ctx.field:
        try:
            value = extract_field(doc, ctx.field)
        except UsageError as exc:
            if isinstance(doc, dict) and doc.get("request_id"):
                # the command itself succeeded (perhaps a paid run): say where its output is
                exc.add_details(
                    request_id=doc["request_id"],
                    hint="for the full output rerun without --field, or: genmedia history show "
                    + str(doc["request_id"]),
                )
            raise
        text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
        ctx.stdout.write(text + "\n")
        ctx.stdout.flush()
        return
    if ctx.json_mode:
        ctx.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
        ctx.stdout.flush()
        return
    if ctx.sandbox_active:
        stderr_console(ctx).print(f"[bold yellow]{SANDBOX_BANNER}[/]", markup=True)
    console = stdout_console(ctx)
    if pretty is not None:
        pretty(doc, console)
    else:
        render_mapping(doc, console)


def render_mapping(doc: Any, console: Console) -> None:
    """A readable default: ``key: value`` lines, nested values as indented JSON."""
    if not isinstance(doc, dict):
        console.print_json(data=doc)
        return
    for key, value in doc.items():
        if key == "sandbox":
            continue
        if isinstance(value, (dict, list)):
            console.print(f"[bold]{esc(key)}[/]:", markup=True)
            console.print_json(data=value, indent=2)
        else:
            console.print(f"[bold]{esc(key)}[/]: {esc(value)}", markup=True)


def print_error(ctx: AppContext, report: ErrorReport) -> None:
    """The error object on stderr: JSON in JSON mode, a readable message otherwise."""
    from genmedia.serialization import unstructure

    details = unstructure(report.details)
    if ctx.json_mode:
        obj: dict[str, Any] = {"error": report.error}
        if details:
            obj["details"] = details
        ctx.stderr.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
        ctx.stderr.flush()
        return
    console = stderr_console(ctx)
    console.print(f"[bold red]Error:[/] {esc(report.error)}", markup=True)
    if isinstance(details, dict):
        for key, value in details.items():
            if key == "body":
                continue
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False, default=str)
            console.print(f"  [dim]{esc(key)}:[/] {esc(value)}", markup=True)
    elif details:
        console.print(f"  {details}")
