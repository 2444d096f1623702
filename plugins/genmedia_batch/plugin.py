"""Hook implementations of the batch plugin: the ``genmedia batch`` command group, and
``genmedia_job_submitted`` to commit each batch job's request id before it is waited on.

Imported on every command, so only click and the core's hook marker at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from genmedia import hookimpl
from genmedia.context import StashKey

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import JobHandle, RunRequest

#: the running batch of this invocation (a ``genmedia_batch.runner.Runner``).
RUNNER: StashKey[Any] = StashKey()


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    cli.add_command(
        LazyCommand(
            "batch",
            "genmedia_batch.commands:make_batch",
            "Run many jobs from a JSONL/CSV file or a matrix of flags, exactly once.",
        )
    )


@hookimpl(trylast=True)
def genmedia_job_submitted(handle: JobHandle, request: RunRequest, ctx: AppContext) -> None:
    """Commit the request id of a batch job (after the other plugins' notifications: from
    here on, a stopping batch may interrupt the wait)."""
    runner = ctx.stash.get(RUNNER, None)
    if runner is not None:
        runner.on_submitted(handle, request)
