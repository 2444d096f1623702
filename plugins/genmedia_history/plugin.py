"""Hook implementations of the history plugin: the run journal.

Imported on every command, so only click and the standard library at module level; the
journal (sqlite3) and everything else load inside the hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from genmedia import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.records import RunQuery, RunRecord
    from genmedia.types import JobHandle, JobStatus, RunRequest, RunResult


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    cli.add_command(
        LazyCommand(
            "history",
            "genmedia_history.commands:history",
            "List, search and show recorded runs (the run journal).",
        )
    )


def _no_history(click_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        from genmedia.cli import get_app
        from genmedia_history.recorder import state

        state(get_app(click_ctx)).off = True


@hookimpl
def genmedia_add_options(command_name: str) -> list[click.Parameter] | None:
    if command_name not in ("run", "status"):
        return None
    return [
        click.Option(
            ["--no-history"],
            is_flag=True,
            expose_value=False,
            callback=_no_history,
            help="Do not record this job in the run journal (also GENMEDIA_NO_HISTORY=1).",
        )
    ]


@hookimpl
def genmedia_job_submitted(handle: JobHandle, request: RunRequest, ctx: AppContext) -> None:
    from genmedia_history import recorder

    recorder.job_submitted(handle, request, ctx)


@hookimpl
def genmedia_job_progress(handle: JobHandle, status: JobStatus, ctx: AppContext) -> None:
    from genmedia_history import recorder

    recorder.job_progress(handle, status, ctx)


@hookimpl
def genmedia_job_finished(
    handle: JobHandle,
    request: RunRequest,
    outcome: str,
    error: BaseException | None,
    ctx: AppContext,
) -> None:
    """Record how a wait ended when it did not end with a result (see journal states)."""
    from genmedia_history import recorder

    recorder.job_finished(handle, request, outcome, error, ctx)


@hookimpl(trylast=True)
def genmedia_handle_result(
    result: RunResult, options: Mapping[str, Any], ctx: AppContext
) -> Mapping[str, Any] | None:
    """Complete the row: result JSON and the files earlier sinks saved (hence trylast)."""
    from genmedia_history import recorder

    recorder.handle_result(result, ctx)
    return None


@hookimpl
def genmedia_find_job(reference: str, ctx: AppContext) -> JobHandle | None:
    from genmedia_history import recorder

    return recorder.find_job(reference, ctx)


@hookimpl
def genmedia_list_runs(query: RunQuery, ctx: AppContext) -> list[RunRecord] | None:
    from genmedia_history.runs import list_runs

    return list_runs(query, ctx)
