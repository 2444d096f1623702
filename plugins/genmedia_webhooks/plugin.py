"""Hook implementations of the webhooks plugin: the ``genmedia webhook`` command group.

Imported on every command, so only click and the core's hook marker at module level; the
verifier (``cryptography``) and the receiver load when a ``webhook`` command runs.
"""

from __future__ import annotations

import click

from genmedia import hookimpl


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    cli.add_command(
        LazyCommand(
            "webhook",
            "genmedia_webhooks.commands:webhook",
            "Verify fal's signed webhook deliveries, or receive them and finish the jobs.",
        )
    )
