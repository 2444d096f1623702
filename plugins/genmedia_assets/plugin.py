"""Hook implementations of the assets plugin: the ``genmedia assets`` command group.

Only click is imported to build the commands; httpx, cattrs and rich are imported by the
command callbacks that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genmedia import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    import click


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    cli.add_command(
        LazyCommand(
            "assets",
            "genmedia_assets.commands:assets",
            "Browse, upload and organise the fal Assets library.",
        )
    )
