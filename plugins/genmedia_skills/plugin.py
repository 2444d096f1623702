"""Hook implementations of the skills plugin (imported on every start: click only here)."""

from __future__ import annotations

import click

from genmedia import hookimpl


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    cli.add_command(
        LazyCommand(
            "skills",
            "genmedia_skills.commands:skills",
            "Install genmedia's skill document for coding agents (Claude, Cursor, AGENTS.md).",
        )
    )
    cli.add_command(
        LazyCommand(
            "init",
            "genmedia_skills.commands:init",
            "Set up this project for coding agents (installs genmedia's skill).",
        )
    )
