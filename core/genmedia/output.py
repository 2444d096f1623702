"""Rendering: one JSON document on stdout, or a pretty view; errors on stderr.

JSON mode prints exactly one JSON document (2-space indent) on stdout; stderr is empty on
success and holds exactly one JSON error object on failure (with ``--events``: NDJSON
events, the error object last, one line each). Warnings go into the document's
``warnings`` list (or the error's ``details.warnings``). ``--field PATH`` prints one
value of the document instead (strings raw, like ``jq -r``; anything else as JSON).
Plugins mark output in ``genmedia_configure``: ``Settings.marks`` keys are added to every
JSON document (an emulator adds ``"sandbox": true``) and ``Settings.banners`` are printed
once on stderr in pretty mode, before a command's work.
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
    if isinstance(doc, dict):
        for key, value in ctx.marks.items():
            doc.setdefault(key, value)
    if ctx.json_mode and ctx.warnings and isinstance(doc, dict):
        doc.setdefault("warnings", []).extend(ctx.warnings)
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
    announce(ctx)
    if isinstance(doc, dict) and pretty is None:
        doc = {k: v for k, v in doc.items() if k not in ctx.marks}
    render = pretty or render_mapping
    console = stdout_console(ctx)
    if not wants_pager(ctx):
        render(doc, console)
        return
    with console.capture() as captured:
        render(doc, console)
    page(ctx, captured.get(), console.height)


def announce(ctx: AppContext) -> None:
    """The plugins' banners (``Settings.banners``) on stderr, in pretty mode, once, before
    a command's work."""
    if ctx.banners_shown or ctx.json_mode or ctx._settings is None:
        return
    ctx.banners_shown = True
    for banner in ctx.settings.banners:
        stderr_console(ctx).print(f"[bold yellow]{esc(banner)}[/]", markup=True)


def wants_pager(ctx: AppContext) -> bool:
    """Page pretty output only on a real terminal (stdout and stdin), unless ``--no-pager`` or
    ``GENMEDIA_PAGER=`` (empty) / ``PAGER=`` say otherwise."""
    import os
    import sys

    if ctx.no_pager or ctx.stdout is not sys.stdout:
        return False
    if os.environ.get("GENMEDIA_PAGER", None) == "" or os.environ.get("PAGER", None) == "":
        return False
    try:  # a pager needs the keyboard too
        return sys.stdout.isatty() and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def page(ctx: AppContext, text: str, height: int) -> None:
    """``text`` through ``$GENMEDIA_PAGER``/``$PAGER`` (less -FRX by default) when it is
    taller than the terminal; printed as is otherwise."""
    import os

    import click

    if text.count("\n") < max(1, height - 1):
        ctx.stdout.write(text)
        ctx.stdout.flush()
        return
    env_pager = os.environ.get("GENMEDIA_PAGER")
    old = os.environ.get("PAGER")
    os.environ.setdefault("LESS", "FRX")  # quit on one screen, keep colours, no clear
    if env_pager:
        os.environ["PAGER"] = env_pager
    try:
        click.echo_via_pager(text, color=True)
    finally:
        if env_pager:
            if old is None:
                os.environ.pop("PAGER", None)
            else:
                os.environ["PAGER"] = old


def render_mapping(doc: Any, console: Console) -> None:
    """A readable default: ``key: value`` lines, nested values as indented JSON."""
    if not isinstance(doc, dict):
        console.print_json(data=doc)
        return
    for key, value in doc.items():
        if isinstance(value, (dict, list)):
            console.print(f"[bold]{esc(key)}[/]:", markup=True)
            console.print_json(data=value, indent=2)
        else:
            console.print(f"[bold]{esc(key)}[/]: {esc(value)}", markup=True)


def job_details(ctx: AppContext, details: Any, exit_code: int = 1) -> Any:
    """Add the job's identity and ``next`` (the exact command that resumes or inspects it)
    to an error's details once a job exists; and this invocation's warnings.

    ``next`` reattaches (``status … --wait``) unless the job itself ended badly (the
    model rejected the input or failed): then it shows the job and its logs."""
    job = ctx.current_job
    if job is None and not ctx.warnings and not ctx.tracebacks:
        return details
    if details is None:
        details = {}
    elif not isinstance(details, dict):
        details = {"detail": details}
    if job is not None:
        details.setdefault("endpoint_id", job.endpoint_id)
        details.setdefault("request_id", job.request_id)
        ended = exit_code == 5 or "logs" in details
        flag = "--logs" if ended else "--wait"
        details.setdefault("next", details.get("resume") or next_command(ctx, job, flag))
    if ctx.warnings:
        details.setdefault("warnings", list(ctx.warnings))
    if ctx.tracebacks:
        details.setdefault("traceback", ctx.tracebacks[-1])
    return details


def next_command(ctx: AppContext, job: Any, flag: str = "--wait") -> str:
    """``genmedia status ENDPOINT REQUEST_ID --wait``: reattach to a job (the command
    words are ``Settings.invocation``, which a plugin may extend with its global option)."""
    return f"{ctx.invocation} status {job.endpoint_id} {job.request_id} {flag}"


def print_error(ctx: AppContext, report: ErrorReport) -> None:
    """The error object on stderr: JSON in JSON mode, a readable message otherwise."""
    from genmedia.serialization import unstructure

    details = job_details(ctx, unstructure(report.details), int(report.exit_code))
    if ctx.json_mode:
        obj: dict[str, Any] = {"error": report.error}
        if details:
            obj["details"] = details
        # one document; with --events one line, the last of the NDJSON stream
        if ctx.events:
            from genmedia.context import one_line_json

            ctx.stderr.write(one_line_json(obj) + "\n")
        else:
            ctx.stderr.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
        ctx.stderr.flush()
        return
    console = stderr_console(ctx)
    console.print(f"[bold red]Error:[/] {esc(report.error)}", markup=True)
    if isinstance(details, dict):
        issues = details.get("validation_errors")
        if isinstance(issues, list) and issues:
            for issue in issues:
                console.print(f"  • {_issue_line(issue)}")
        for key, value in details.items():
            if key in ("body", "validation_errors", "warnings") or value in (None, "", [], {}):
                continue
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False, default=str)
            console.print(f"  [dim]{esc(key)}:[/] {esc(value)}", markup=True)
        for warning in details.get("warnings") or ():
            console.print(f"  [yellow]warning:[/] {esc(warning)}", markup=True)
    elif details:
        console.print(f"  {details}")


def _issue_line(issue: Any) -> str:
    """One validation problem as a readable line: ``field: message (got 20)``."""
    if not isinstance(issue, dict):
        return str(issue)
    line = f"{issue.get('field', '?')}: {issue.get('message', '')}"
    if "input" in issue and issue.get("type") != "missing":
        got = issue["input"]
        text = got if isinstance(got, str) else json.dumps(got, ensure_ascii=False, default=str)
        line += f" (got {text[:80]})"
    if issue.get("did_you_mean"):
        line += f" (did you mean {issue['did_you_mean']}?)"
    return line
