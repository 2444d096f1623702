"""The core's provider-agnostic commands, registered through the same hook as any plugin.

Each is a :class:`genmedia.cli.LazyCommand`: its module is imported only when it is used.
"""

from __future__ import annotations

import click

from genmedia import hookimpl

COMMANDS = (
    ("run", "genmedia_commands.jobs:make_run_command", "Run a model and wait for its result."),
    (
        "status",
        "genmedia_commands.status:make_status_command",
        "Check a job, fetch its result, cancel it, or wait for it.",
    ),
    ("models", "genmedia_commands.discovery:models", "Search and list models."),
    ("schema", "genmedia_commands.discovery:schema", "Show a model's input and output fields."),
    (
        "upload",
        "genmedia_commands.discovery:upload",
        "Upload a local file (or a URL's content) and print its URL.",
    ),
    (
        "plugins",
        "genmedia_commands.meta:plugins",
        "List plugins; install or uninstall them (plugins install NAME).",
    ),
    (
        "config",
        "genmedia_commands.config_cmd:config",
        "Read and change settings: config list|get|set|unset|path.",
    ),
    (
        "completion",
        "genmedia_commands.completion:completion",
        "Print the shell completion script for bash, zsh or fish.",
    ),
    ("version", "genmedia_commands.meta:version", "Print the versions of genmedia and plugins."),
    (
        "cache",
        "genmedia_commands.cache_cmd:cache",
        "Show and empty the cache (model schemas): cache list|clear|path.",
    ),
)


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    for name, target, short_help in COMMANDS:
        cli.add_command(LazyCommand(name, target, short_help))
