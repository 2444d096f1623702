"""Hook implementations of the mcp plugin: the ``genmedia mcp`` command.

Imported on every command, so only click and the core's hook marker at module level; the
MCP SDK is imported when the server starts.
"""

from __future__ import annotations

import click

from genmedia import hookimpl


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    cli.add_command(
        LazyCommand(
            "mcp",
            "genmedia_mcp.commands:mcp",
            "Serve every command as a tool to agents (Model Context Protocol, stdio).",
        )
    )
