"""``genmedia status``: check a job, fetch its result, cancel it, or wait for it (through
the same ``genmedia_execute`` as ``run``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from genmedia import errors
from genmedia.cli import get_app
from genmedia.output import emit
from genmedia_commands.jobs import plugin_options, run_renderer

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import JobHandle


def make_status_command() -> click.Command:
    params: list[click.Parameter] = [
        click.Argument(["ids"], nargs=-1, required=True, metavar="[ENDPOINT] REQUEST_ID|last"),
        click.Option(["--result"], is_flag=True, help="Fetch the result (the job must be done)."),
        click.Option(["--logs"], is_flag=True, help="Show all log lines (default: the last 5)."),
        click.Option(["--cancel"], is_flag=True, help="Cancel the job."),
        click.Option(
            ["--wait"],
            is_flag=True,
            help="Reattach: follow the job until it completes, then behave like run.",
        ),
        click.Option(
            ["--timeout"],
            type=click.FloatRange(min=0, min_open=True),
            metavar="S",
            help="With --wait: stop waiting after S seconds.",
        ),
        click.Option(
            ["--cancel-on-interrupt"],
            is_flag=True,
            help="With --wait: cancel the job on Ctrl-C or --timeout.",
        ),
        click.Option(["--provider"], metavar="NAME", help="Use this provider."),
        *plugin_options("status"),
    ]
    return click.Command(
        "status",
        params=params,
        callback=_status,
        help=(
            "Check a job, fetch its result, cancel it, or wait for it.\n\n"
            "With the journal (history plugin) the endpoint may be left out, and `last` "
            "names the most recent job."
        ),
    )


STATUS_PARAMS = {
    "ids",
    "result",
    "logs",
    "cancel",
    "wait",
    "timeout",
    "cancel_on_interrupt",
    "provider",
}


def resolve_handle(app: AppContext, ids: tuple[str, ...], provider_name: str | None) -> JobHandle:
    if len(ids) == 2:
        endpoint, request_id = ids
        provider = app.provider(provider_name) if provider_name else app.resolve_provider(endpoint)
        return provider.handle_for(endpoint, request_id)
    if len(ids) == 1:
        app.configure()
        handle = app.pm.hook.genmedia_find_job(reference=ids[0], ctx=app)
        if handle is None:
            raise errors.UsageError(
                f"Unknown job {ids[0]!r}: give the endpoint too",
                {"usage": "genmedia status ENDPOINT REQUEST_ID"},
            )
        return handle  # type: ignore[no-any-return]
    raise errors.UsageError(
        "status takes ENDPOINT REQUEST_ID (or REQUEST_ID / last with the journal)",
        {"given": list(ids)},
    )


def _status(**params: Any) -> None:
    ctx = click.get_current_context()
    app = get_app(ctx)
    app.stream_logs = bool(params["logs"])
    extra = {k: v for k, v in params.items() if k not in STATUS_PARAMS}
    wants_output = any(v not in (None, False, (), "") for v in extra.values())
    if params["cancel"] and (params["result"] or params["wait"] or wants_output):
        offending = [f"--{k}" for k, v in extra.items() if v not in (None, False, (), "")]
        with_what = ", ".join(offending) or "--result/--wait"
        raise errors.UsageError(f"--cancel cannot be combined with {with_what}")
    from genmedia.types import RunOptions, RunRequest

    handle = resolve_handle(app, tuple(params["ids"]), params["provider"])
    app.current_job = handle  # any error from here on names the job and the next command
    provider = app.provider(handle.provider)
    from genmedia import pipeline

    if params["cancel"]:
        answer = provider.cancel(handle)
        if not answer.accepted:  # too late: the job had already finished
            raise errors.GenmediaError(
                f"Request {handle.request_id} already completed; nothing to cancel",
                {
                    "endpoint_id": handle.endpoint_id,
                    "request_id": handle.request_id,
                    "host_status": answer.host_status,
                },
            )
        emit(
            app,
            {
                "status": "cancelled",
                "request_id": handle.request_id,
                "host_status": answer.host_status,
            },
        )
        return
    if params["wait"] or params["result"] or wants_output:
        # The same path as ``run``: genmedia_execute with the existing handle (waiting
        # with --wait, else only fetching the result).
        request = RunRequest(
            endpoint_id=handle.endpoint_id,
            provider=handle.provider,
            options=RunOptions(
                wait=bool(params["wait"]),
                timeout=params["timeout"],
                cancel_on_interrupt=params["cancel_on_interrupt"],
            ),
            extra=extra,
        )
        result = app.pm.hook.genmedia_execute(
            request=request, provider=provider, handle=handle, ctx=app
        )
        run_doc, code = pipeline.finish(app, result, extra)
        emit(app, run_doc, pretty=run_renderer(result))
        ctx.exit(code)
    status = provider.status(handle, logs=True)
    doc: dict[str, Any] = {"status": status.status, "request_id": status.request_id}
    if status.queue_position is not None:
        doc["queue_position"] = status.queue_position
    if status.logs is not None and status.status != "IN_QUEUE":
        doc["logs"] = status.logs if params["logs"] else status.logs[-5:]
    if status.error:
        doc["error"] = status.error
        doc["error_type"] = status.error_type
    emit(app, doc)
