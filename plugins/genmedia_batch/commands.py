"""``genmedia batch [run] SOURCE``, ``batch resume|list|show|cancel``.

The output is NDJSON whatever the terminal: one line per finished job, then the summary
(see docs/batch.md). ``batch SOURCE`` is short for ``batch run SOURCE``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from genmedia import errors
from genmedia.cli import get_app

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext


class BatchGroup(click.Group):
    """A group whose default subcommand is ``run``: ``batch jobs.jsonl`` = ``batch run
    jobs.jsonl``. Its output is NDJSON whatever the terminal (``json_output``: the core
    switches to JSON before any plugin banner is printed)."""

    json_output = True

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def make_batch() -> click.Group:
    """The ``batch`` group, built per invocation: ``run`` carries the options the plugins
    of *this* invocation add to ``run`` (a module-level group would keep the first ones)."""
    group = BatchGroup("batch", help=_BATCH_HELP)
    for command in (make_run(), make_resume(), list_batches, show, cancel):
        group.add_command(command)
    return group


_BATCH_HELP = """Run many jobs from a JSONL/CSV file or a matrix of flags, exactly once.

genmedia batch jobs.jsonl; genmedia batch ENDPOINT --prompt @prompts.txt --seed 1..4.
Every job is validated before the first submit; the batch is journaled, so running it
again (or batch resume ID) never submits a job twice. NDJSON on stdout: one line per
finished job, then a summary.
"""


def _plugin_run_options() -> list[click.Parameter]:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    from genmedia.plugins import split_failures

    app = get_app(ctx)
    params: list[click.Parameter] = []
    # guarded: a plugin that fails is a warning, the others' options stay
    results = app.pm.hook.genmedia_add_options(command_name="run")
    for contributed in split_failures(app, "genmedia_add_options", results)[0]:
        params.extend(contributed or ())
    wrapped = []
    for param in params:
        if param.callback is not None:  # a copy: the plugin's own option stays as it is
            param = copy.copy(param)
            param.callback = _with_batch_placeholders(param.callback)
        wrapped.append(param)
    return wrapped


def _with_batch_placeholders(check: Any) -> Any:
    """A plugin option's check, shown a template's ``{line}`` and ``{id}`` filled in (the
    batch fills them per job); the value itself is kept."""

    def checked(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if not isinstance(value, str) or ("{line}" not in value and "{id}" not in value):
            return check(ctx, param, value)
        check(ctx, param, value.replace("{line}", "1").replace("{id}", "id"))
        return value

    return checked


RUN_KNOBS = (
    click.Option(["--concurrency", "-c"], type=click.IntRange(1, 32), default=None,
                 help="Jobs in flight at once (default 4, at most 32)."),
    click.Option(["--rate"], type=click.FloatRange(min=0), default=None, metavar="N",
                 help="At most N submits per second (default 20; 0 = no limit)."),
    click.Option(["--max-cost"], type=click.FloatRange(min=0), default=None, metavar="USD",
                 help="Refuse a batch whose estimate is over USD; stop submitting at it "
                 "(exit 11)."),
    click.Option(["--retry-failed"], is_flag=True, default=None,
                 help="Submit failed jobs (and ones whose submit was cut off) again."),
    click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), default=None,
                 metavar="S", help="Stop waiting on a job after S seconds (it fails)."),
    click.Option(["--summary", "summary_only"], is_flag=True,
                 help="Print only the summary document (no line per job)."),
)  # fmt: skip
RUN_PARAMS = {
    "source", "model_args", "format", "endpoint", "concurrency", "rate", "max_cost",
    "retry_failed", "timeout", "summary_only", "dry_run", "new",
}  # fmt: skip


def make_run() -> click.Command:
    params: list[click.Parameter] = [
        click.Argument(["source"], metavar="FILE|-|ENDPOINT"),
        click.Argument(["model_args"], nargs=-1, type=click.UNPROCESSED),
        click.Option(["--format"], type=click.Choice(["jsonl", "csv"]), default=None,
                     help="The file's format (default: by extension; '-' is sniffed)."),
        click.Option(["--endpoint"], metavar="ENDPOINT",
                     help="CSV: the endpoint of rows without an endpoint_id column."),
        *RUN_KNOBS,
        click.Option(["--dry-run"], is_flag=True,
                     help="Validate, print the plan (jobs, endpoints, estimate); pay nothing."),
        click.Option(["--new"], is_flag=True,
                     help="Start a new batch even if this one was run before."),
        *_plugin_run_options(),
    ]  # fmt: skip
    return click.Command(
        "run",
        params=params,
        callback=_run,
        help="Run a batch (the default subcommand: `batch FILE` = `batch run FILE`).\n\n"
        'FILE.jsonl: one {"endpoint_id", "input", "id"} per line; FILE.csv: a header '
        "of input names; '-': stdin; ENDPOINT --name VALUE ...: the product of the flags' "
        "values (@FILE = one value per line, A..B = integers). Options of `run` added by "
        "plugins apply to every job (--download gains {line} and {id}).",
        context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True},
    )


def _json_mode(app: AppContext) -> None:
    """The output is NDJSON whatever the terminal, and errors are JSON objects."""
    app.json_flag = True


def _open_store(app: AppContext) -> Any:
    from genmedia_batch.store import Store

    return Store(_home(app) / "batches.db")


def _home(app: AppContext) -> Path:
    return app.settings.data_dir


def _run(**params: Any) -> None:
    from genmedia_batch import sources
    from genmedia_batch.execute import execute, settings_from
    from genmedia_batch.plan import plan

    ctx = click.get_current_context()
    app = get_app(ctx)
    _json_mode(app)
    source, args = params["source"], list(params["model_args"])
    extra = {k: v for k, v in params.items() if k not in RUN_PARAMS}
    is_file = source == "-" or os.path.exists(source)
    if not is_file and "/" in source and not source.lower().endswith((".jsonl", ".csv")):
        specs = sources.matrix(source, sources.parse_flags(args))
        label = f"matrix {source}"
    else:
        if args:
            raise errors.UsageError(
                f"Unexpected arguments after the batch file: {' '.join(args[:3])}",
                {"hint": "model inputs as flags make a matrix: genmedia batch ENDPOINT --name "
                 "VALUE ...; a misspelled option? see genmedia batch run --help"},
            )  # fmt: skip
        fmt, stream = sources.detect_format(source, params["format"], app.stdin)
        specs = (
            sources.read_csv(stream, params["endpoint"])
            if fmt == "csv"
            else sources.read_jsonl(stream)
        )
        label = "stdin" if source == "-" else os.path.abspath(source)
    app.configure()
    dry = bool(params["dry_run"])
    max_cost = params["max_cost"]
    salt = os.urandom(8).hex() if params["new"] else ""
    planned = plan(
        app, specs, _home(app) / "batches", paid=not dry, estimate=dry or max_cost is not None,
        salt=salt,
    )  # fmt: skip
    store = _open_store(app)
    try:
        existing = store.batch(planned.batch_id)
        if dry:
            _dry_run(app, planned, existing, max_cost)
            return
        _check_budget(planned, max_cost)
        settings = settings_from(params, extra, existing.options if existing else None)
        from genmedia.serialization import unstructure

        if existing is None:
            store.create(
                planned.batch_id,
                label,
                unstructure(settings),
                app.marks,
                app.invocation,
                planned.rows(),
            )
        else:
            store.set_batch(planned.batch_id, options=unstructure(settings), state="running")
        planned.discard()
        code = execute(app, store, planned.batch_id, settings, summary_only=params["summary_only"],
                       estimate=planned.estimate, endpoints=planned.endpoints)  # fmt: skip
    finally:
        planned.discard()
        store.close()
    ctx.exit(code)


def _check_budget(planned: Any, max_cost: float | None) -> None:
    if max_cost is None:
        return
    estimate = planned.estimate
    details = {"batch_id": planned.batch_id, "max_cost": max_cost, "jobs": planned.total,
               "estimate": estimate, "hint": "nothing was submitted; see --dry-run"}  # fmt: skip
    if estimate.unestimated:
        raise errors.BudgetExceeded(
            f"Cannot hold the batch to --max-cost {max_cost:g}: {estimate.unestimated} jobs "
            "have no price estimate",
            details,
        )
    if estimate.total_cost > max_cost + 1e-9:
        raise errors.BudgetExceeded(
            f"The batch's estimate {estimate.total_cost:g} {estimate.currency or ''} is over "
            f"--max-cost {max_cost:g}".replace("  ", " "),
            details,
        )


def _dry_run(app: AppContext, planned: Any, existing: Any, max_cost: float | None) -> None:
    from genmedia.output import emit

    doc: dict[str, Any] = {
        "status": "dry_run",
        "batch_id": planned.batch_id,
        "jobs": planned.total,
        "endpoints": planned.endpoints,
        "estimate": planned.estimate,
    }
    if max_cost is not None:
        doc["max_cost"] = max_cost
        doc["within_budget"] = (
            not planned.estimate.unestimated and planned.estimate.total_cost <= max_cost + 1e-9
        )
    if existing is not None:
        doc["existing"] = {
            "state": existing.state,
            "counts": existing.counts,
            "hint": "running it again submits only the jobs not yet submitted",
        }
    emit(app, doc)


def _resolve(store: Any, batch_id: str) -> Any:
    found = store.batch(batch_id)
    if found is None and batch_id == "last":
        recent = store.batches(limit=1)
        found = recent[0] if recent else None
    if found is None:
        raise errors.NotFoundError(
            f"No batch {batch_id}", {"batch_id": batch_id, "hint": "genmedia batch list"}
        )
    return found


def make_resume() -> click.Command:
    return click.Command(
        "resume",
        params=[click.Argument(["batch_id"], metavar="BATCH_ID|last"), *RUN_KNOBS],
        callback=_resume,
        help="Finish a batch: re-attach to its running jobs, submit the ones never "
        "submitted; finished jobs are skipped. Options given replace the batch's own.",
    )


def _resume(batch_id: str, **params: Any) -> None:
    from genmedia_batch.execute import execute, settings_from

    ctx = click.get_current_context()
    app = get_app(ctx)
    _json_mode(app)
    app.configure()
    store = _open_store(app)
    try:
        found = _resolve(store, batch_id)
        from genmedia.records import marks_text, same_marks

        if not same_marks(found.marks, app.marks):
            raise errors.UsageError(
                f"Batch {found.id} was made under marks {marks_text(found.marks)} but this "
                f"invocation has {marks_text(app.marks)}: resume it with the same global options",
                {"batch_id": found.id, "marks": found.marks,
                 "hint": f"{found.invocation} batch resume {found.id}"},
            )  # fmt: skip
        settings = settings_from(params, None, found.options)
        if params.get("max_cost") is not None:
            from genmedia.serialization import unstructure

            store.set_batch(found.id, options=unstructure(settings))
        code = execute(app, store, found.id, settings, summary_only=params["summary_only"])
    finally:
        store.close()
    ctx.exit(code)


@click.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def list_batches(limit: int) -> None:
    """List batches, newest first, with their counts by state."""
    from genmedia.output import emit

    app = get_app(click.get_current_context())
    store = _open_store(app)
    try:
        rows = store.batches(limit=limit)
    finally:
        store.close()
    emit(app, {"batches": [_batch_doc(b) for b in rows]})


def _batch_doc(b: Any) -> dict[str, Any]:
    import datetime

    when = datetime.datetime.fromtimestamp(b.created_at, datetime.UTC).isoformat(timespec="seconds")
    doc = {"batch_id": b.id, "state": b.state, "created_at": when, "source": b.source,
           "total": b.total, "counts": {k: v for k, v in b.counts.items() if v},
           "marks": b.marks or None}  # fmt: skip
    for key, value in b.marks.items():  # the batch's own keys win, as in every record
        doc.setdefault(key, value)
    return doc


@click.command("show")
@click.argument("batch_id", metavar="BATCH_ID|last")
@click.option("--state", "states", multiple=True, metavar="STATE",
              help="Only jobs in this state (pending, submitted, completed, failed, "
              "cancelled, unknown). Repeatable.")  # fmt: skip
def show(batch_id: str, states: tuple[str, ...]) -> None:
    """Show a batch and each of its jobs (line, id, state, request id, result, error)."""
    from genmedia.output import emit
    from genmedia.serialization import unstructure

    app = get_app(click.get_current_context())
    store = _open_store(app)
    try:
        found = _resolve(store, batch_id)
        jobs = [
            {k: v for k, v in unstructure(j).items() if k not in ("batch", "input_hash")}
            for j in store.jobs(found.id, tuple(states))
        ]
    finally:
        store.close()
    emit(app, {**_batch_doc(found), "options": found.options, "jobs": jobs})


@click.command("cancel")
@click.argument("batch_id", metavar="BATCH_ID|last")
def cancel(batch_id: str) -> None:
    """Cancel a batch: jobs not yet submitted never will be; running jobs are cancelled
    on the provider."""
    from genmedia.output import emit
    from genmedia_batch import store as st

    app = get_app(click.get_current_context())
    app.configure()
    store = _open_store(app)
    requested: list[str] = []
    too_late: list[str] = []  # the host had finished the job: nothing to cancel
    failures: list[dict[str, Any]] = []
    try:
        found = _resolve(store, batch_id)
        store.set_batch(found.id, state="cancelled")
        never = store.cancel_pending(found.id)
        for job in store.jobs(found.id, (st.SUBMITTED,)):
            try:
                provider = app.provider(job.provider or "") if job.provider else None
                provider = provider or app.resolve_provider(job.endpoint_id)
                answer = provider.cancel(provider.handle_for(job.endpoint_id, str(job.request_id)))
                (requested if answer.accepted else too_late).append(str(job.request_id))
            except errors.GenmediaError as exc:
                failures.append({"line": job.line, "request_id": job.request_id,
                                 "error": exc.message})  # fmt: skip
    finally:
        store.close()
    emit(app, {"batch_id": found.id, "status": "cancelled", "never_submitted": never,
               "cancel_requested": requested, "already_finished": too_late or None,
               "cancel_errors": failures or None})  # fmt: skip
    if failures:
        click.get_current_context().exit(errors.EXIT_ERROR)
