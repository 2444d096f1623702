"""``genmedia history``: list, show and locate the jobs in the run journal.

Imported when commands are registered (also for ``genmedia --help``): click and the
standard library only at module level.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_history.journal import JobRecord, Journal

LIST_LIMIT = 20


class HistoryGroup(click.Group):
    """``history [list] …``: anything that is not a subcommand is ``list``'s arguments."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and ctx.resilient_parsing:
            # shell completion of `genmedia history <TAB>`: offer the subcommands
            return super().parse_args(ctx, args)
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group(cls=HistoryGroup)
def history() -> None:
    """The run journal: every job genmedia submitted, where it is, what came of it.

    `genmedia history` lists recent jobs; `history list --status pending` shows the
    unfinished ones, each finished with `genmedia status REQUEST_ID --wait`.
    """


# --------------------------------------------------------------------------- parsing


def parse_since(value: str, *, now: float | None = None) -> float:
    """``--since`` → Unix seconds (the core's public reading, shared with other plugins)."""
    from genmedia.records import parse_since as parse

    return parse(value, now=now)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- views


def resume_command(job: JobRecord) -> str:
    """How to finish ``job``: the command words it was made under (``Settings.invocation``
    as recorded, e.g. with the global option of the plugin that marked it)."""
    return f"{job.invocation or 'genmedia'} status {job.request_id} --wait"


def job_doc(job: JobRecord, *, full: bool) -> dict[str, Any]:
    """The JSON view of a job: the record with ISO times, plus how to finish it. Its
    ``marks`` are also keys of the job (as in every document made under them, e.g.
    ``"sandbox": true``); in full, so are the keys of its handle's ``extra``."""
    from genmedia.serialization import unstructure

    doc: dict[str, Any] = unstructure(job)
    extra = doc.pop("extra", None) or {}
    if not job.marks:
        doc.pop("marks", None)
    for key, value in job.marks.items():
        doc.setdefault(key, value)
    if full:
        for key, value in extra.items():
            doc.setdefault(key, value)
    for key in ("submitted_at", "started_at", "completed_at", "updated_at"):
        if key in doc:
            doc[key] = iso(doc[key])
    if job.completed_at is not None:
        doc["duration_s"] = round(job.completed_at - job.submitted_at, 3)
    if not job.finished:
        doc["resume"] = resume_command(job)
    if not full:
        for key in (
            "input",
            "uploads",
            "result",
            "invocation",
            "updated_at",
            "download_failures",
        ):
            doc.pop(key, None)
        doc["files"] = [f["path"] for f in doc.get("files") or ()]
    if not doc.get("files"):
        doc.pop("files", None)
    first = [k for k in KEY_ORDER if k in doc]
    return {k: doc[k] for k in [*first, *(k for k in doc if k not in KEY_ORDER)]}


KEY_ORDER = (
    "id",
    "request_id",
    "endpoint_id",
    "provider",
    "status",
    "host_status",
    "error",
    "error_type",
    "resume",
    "marks",
    "batch",
    "submitted_at",
    "started_at",
    "completed_at",
    "duration_s",
    "prompt",
    "files",
)


def _render_list(doc: Any, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    from genmedia.output import esc
    from genmedia.records import set_marks

    jobs = doc.get("jobs") or []
    if not jobs:
        console.print("[dim]no jobs recorded[/]", markup=True)
        return
    table = Table("id", "submitted", "status", "endpoint", "request id", "prompt", box=None)
    for job in jobs:
        when = _local(job.get("submitted_at"))
        status = job["status"]
        style = {"completed": "green", "failed": "red", "cancelled": "dim"}.get(status, "yellow")
        prompt = (job.get("prompt") or "").replace("\n", " ")
        marked = set_marks(job.get("marks") or {})
        table.add_row(
            str(job["id"]),
            when,
            Text.assemble((status, style), (f" ({', '.join(marked)})", "dim") if marked else ""),
            job["endpoint_id"],
            job["request_id"],
            prompt[:48] + ("…" if len(prompt) > 48 else ""),
        )
    console.print(table)
    pending = [j for j in jobs if j.get("resume")]
    if pending:
        console.print(
            f"[dim]finish an unfinished job with:[/] {esc(pending[0]['resume'])}", markup=True
        )


def _render_show(doc: Any, console: Any) -> None:
    from genmedia.output import render_mapping

    render_mapping(doc, console)


def _local(value: str | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _journal(app: AppContext) -> Journal:
    from genmedia_history.recorder import journal_for

    return journal_for(app)


def _read(app: AppContext, action: Any, journal: Journal | None = None) -> Any:
    """Run a read; a broken journal is a clean error (these commands exist to read it)."""
    from genmedia import errors
    from genmedia_history.journal import JournalError

    journal = journal or _journal(app)
    try:
        return action(journal)
    except JournalError as exc:
        if exc.reason == "ambiguous":
            from genmedia_history.recorder import ambiguous_reference

            raise ambiguous_reference(exc) from None
        raise errors.GenmediaError(
            f"Cannot read the run journal: {exc}", {"path": str(exc.path), "reason": exc.reason}
        ) from None


# --------------------------------------------------------------------------- commands


STATUS_CHOICES = (
    "pending",
    "in_queue",
    "in_progress",
    "interrupted",
    "timeout",
    "error",
    "completed",
    "failed",
    "cancelled",
)


@history.command("list")
@click.option(
    "--endpoint",
    metavar="ENDPOINT",
    help="Only this endpoint (a prefix like fal-ai/flux matches fal-ai/flux/dev; * globs).",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="STATE",
    help="Only jobs in this state (repeatable or a,b). pending = every unfinished state.",
)
@click.option(
    "--since",
    metavar="WHEN",
    help="Only jobs submitted since: 30m, 2h, 7d, 1w, today, or an ISO date/time.",
)
@click.option(
    "--batch",
    metavar="ID",
    help="Only the jobs of this batch (the batch_id genmedia batch printed).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=LIST_LIMIT,
    show_default=True,
    help="At most this many jobs (0 = all).",
)
@click.argument("text", nargs=-1)
@click.pass_context
def list_jobs(
    ctx: click.Context,
    endpoint: str | None,
    statuses: tuple[str, ...],
    since: str | None,
    batch: str | None,
    limit: int,
    text: tuple[str, ...],
) -> None:
    """List recorded jobs, newest first. TEXT searches the prompts (every word must match)."""
    from genmedia import errors
    from genmedia.cli import get_app
    from genmedia.output import emit
    from genmedia_history.journal import Query

    app = get_app(ctx)
    wanted = tuple(s.strip().lower() for raw in statuses for s in raw.split(",") if s.strip())
    unknown = [s for s in wanted if s not in STATUS_CHOICES]
    if unknown:
        raise errors.UsageError(
            f"Unknown --status: {', '.join(unknown)}", {"choices": list(STATUS_CHOICES)}
        )
    query = Query(
        endpoint=endpoint,
        statuses=wanted,
        since=parse_since(since) if since else None,
        text=" ".join(text) or None,
        batch=batch,
        limit=limit or None,
    )
    journal = _journal(app)
    jobs = _read(app, lambda j: j.list(query), journal)
    doc: dict[str, Any] = {"jobs": [job_doc(job, full=False) for job in jobs]}
    if journal.skipped:
        doc["skipped_rows"] = journal.skipped
        app.warn(f"{len(journal.skipped)} damaged journal row(s) skipped (see skipped_rows)")
    emit(app, doc, pretty=_render_list)


@history.command("show")
@click.argument("reference", metavar="ID|REQUEST_ID|last")
@click.pass_context
def show(ctx: click.Context, reference: str) -> None:
    """Show one job in full: input, uploads, result, saved files (with sha256)."""
    from genmedia import errors
    from genmedia.cli import get_app
    from genmedia.output import emit

    app = get_app(ctx)
    job = _read(app, lambda j: j.get(reference) if j.exists else None)
    if job is None:
        raise errors.NotFoundError(
            f"No job {reference!r} in the run journal", {"path": str(_journal(app).path)}
        )
    emit(app, job_doc(job, full=True), pretty=_render_show)


@history.command("path")
@click.pass_context
def path(ctx: click.Context) -> None:
    """Print where the run journal lives."""
    from genmedia.cli import get_app
    from genmedia.output import emit

    app = get_app(ctx)
    journal = _journal(app)
    emit(
        app,
        {"path": str(journal.path), "exists": journal.exists},
        pretty=lambda doc, console: console.print(doc["path"], highlight=False, soft_wrap=True),
    )
