"""``genmedia mcp``: serve the command tree as MCP tools over stdio."""

from __future__ import annotations

from typing import Any

import click

from genmedia import errors
from genmedia.cli import get_app, not_an_agent_tool

#: Global options that belong to one invocation's output, not to the server's calls:
#: every tool call is JSON with its events read by the server.
NOT_FORWARDED = frozenset({"json_flag", "events", "field"})


@not_an_agent_tool("the MCP server itself")
@click.command("mcp")
@click.option(
    "--list-tools",
    is_flag=True,
    help="Print the tools (name, command, input schema) and the commands that are not "
    "tools (with the reason) as JSON instead of serving.",
)
@click.pass_context
def mcp(click_ctx: click.Context, list_tools: bool) -> None:
    """Serve genmedia to agents over the Model Context Protocol (stdio).

    Every command is a tool (models, schema, run, status, upload, pricing, docs, history,
    assets…) returning the same JSON document as --json; failures are tool errors with
    the same error object. `genmedia --sandbox mcp` serves the offline emulator.
    Register it with an agent as the command `genmedia mcp`.
    """
    from genmedia_mcp.tools import command_tools, excluded_commands

    app = get_app(click_ctx)
    root = click_ctx.find_root()
    tools = command_tools(root.command, root)  # type: ignore[arg-type]
    if list_tools:
        from genmedia.output import emit

        emit(
            app,
            {
                "tools": [
                    {
                        "name": t.name,
                        "command": "genmedia " + " ".join(t.path),
                        "input_schema": t.input_schema,
                    }
                    for t in tools
                ],
                "excluded": excluded_commands(root.command, root),  # type: ignore[arg-type]
            },
        )
        return
    try:
        from genmedia_mcp.server import build_server, serve_stdio
    except ImportError as exc:
        raise errors.UsageError(
            f"genmedia mcp needs the MCP SDK: {exc}",
            {"hint": "pip install 'genmedia[mcp]'"},
        ) from None
    app.configure()
    server = build_server(
        tools,
        forwarded_global_options(root),
        marks=app.marks,
        banners=app.settings.banners,
        global_options=app.global_options,
        disabled=app.disabled_plugins,
    )
    if not app.json_mode and app.stderr_is_tty:
        app.stderr.write(
            "genmedia mcp: serving the Model Context Protocol on stdin/stdout for an agent "
            "(see the MCP server page of the docs to register it); Ctrl-C stops it.\n"
        )
    try:
        serve_stdio(server)
    except KeyboardInterrupt:  # a server stopped by its user: a normal end, as `sandbox serve`
        return


def forwarded_global_options(root: click.Context) -> list[str]:
    """The server's own global options (``--sandbox``, ``--disable-plugin``, ``--debug``
    and plugin-contributed ones) as tokens that start every tool call's command line."""
    tokens: list[str] = []
    for param in root.command.params:
        if not isinstance(param, click.Option) or param.is_eager or param.name in NOT_FORWARDED:
            continue
        value: Any = root.params.get(param.name or "")
        if value in (None, False, (), []):
            continue
        opt = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        if param.is_flag:
            tokens.append(opt)
        elif param.multiple:
            for item in value:
                tokens += [opt, str(item)]
        else:
            tokens += [opt, str(value)]
    return tokens
