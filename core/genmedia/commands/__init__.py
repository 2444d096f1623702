"""The core's provider-agnostic commands, registered through the same hook as any plugin."""

from __future__ import annotations

import click

from genmedia import hookimpl


@hookimpl(tryfirst=True)
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.commands import discovery, jobs, meta

    for command in (
        jobs.make_run_command(),
        jobs.make_status_command(),
        discovery.models,
        discovery.schema,
        discovery.upload,
        meta.plugins,
        meta.version,
    ):
        cli.add_command(command)
