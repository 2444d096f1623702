"""The MCP server: tools from the command tree, resources from the journal and schemas.

Built on the official SDK's low-level :class:`mcp.server.lowlevel.Server` (tool schemas
are generated at start, not declared with decorators) over stdio.

- ``tools/list``: :func:`genmedia_mcp.tools.command_tools`.
- ``tools/call``: the arguments are checked against the tool's schema, turned back into a
  command line and run in-process in JSON mode on a thread of its own
  (:class:`genmedia_mcp.invoke.Invocation`). The result is the CLI's JSON document (as
  structured content when it is an object, and as text); a failure is a tool error
  (``isError``) carrying the CLI's error object. ``_meta["genmedia/exit_code"]`` is the
  exit code the CLI would have returned. Events the command streams become progress
  notifications when the client asked for them (a ``progressToken``).
- A cancelled call is interrupted like Ctrl-C: the job keeps running on the provider, the
  journal has its request id, and the error object (with ``request_id`` and ``next``) is
  written as one JSON line on the server's stderr.
- Resources: ``genmedia://runs`` (recent runs from the journal, ``genmedia_list_runs``)
  and the template ``genmedia://schemas/{+endpoint_id}`` (a model's schema, as
  ``genmedia schema ENDPOINT`` prints it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from genmedia import __version__
from genmedia.records import set_marks
from genmedia_mcp.invoke import Invocation, Outcome
from genmedia_mcp.tools import ToolSpec

RUNS_URI = "genmedia://runs"
SCHEMA_PREFIX = "genmedia://schemas/"
SCHEMA_TEMPLATE = SCHEMA_PREFIX + "{+endpoint_id}"
RECENT_RUNS = 50
#: How long a cancelled call may take to stop after its interrupt (the command is
#: between two polls of the provider or in the middle of a download).
INTERRUPT_GRACE_S = 30.0
RESOURCE_NOT_FOUND = -32002

INSTRUCTIONS = """\
genmedia runs generative-media models (fal.ai) end to end. Typical flow: models (find an
endpoint id for a task), schema (its inputs), pricing (its cost), run (with `input` as one
JSON object; `download` saves the files to a directory), status (result, cancel, or wait
for a job started with `async`). Every result is the JSON document of the genmedia CLI;
errors carry `details.hint`, and once a job exists `details.request_id` and `details.next`.
"""


def build_server(
    tools: Sequence[ToolSpec],
    global_argv: Sequence[str],
    *,
    marks: Mapping[str, Any] | None = None,
    banners: Sequence[str] = (),
    global_options: Mapping[str, Any] | None = None,
    disabled: Sequence[str] = (),
) -> Server[Any]:
    """The low-level server for ``tools``; ``global_argv`` starts every command line.

    ``marks``, ``banners`` and ``global_options`` are the serving invocation's
    (``Settings.marks``, ``Settings.banners``, the parsed global options): the title names
    the set marks, the instructions carry the banners (what a plugin such as the sandbox
    says about where runs go), and the runs resource is read under the same options."""
    marks = dict(marks or {})
    options = dict(global_options or {})
    marked = set_marks(marks)
    by_name = {tool.name: tool for tool in tools}
    listed = [_tool(tool) for tool in tools]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = by_name.get(params.name)
        arguments = dict(params.arguments or {})
        if tool is None:
            return _error_result(
                Outcome(
                    2,
                    error={
                        "error": f"Unknown tool: {params.name}",
                        "details": {"hint": "tools/list names every tool"},
                    },
                )
            )
        problem = _check_arguments(tool, arguments)
        if problem is not None:
            return _error_result(problem)
        argv, stdin = tool.argv(arguments)
        outcome = await run_command(ctx, [*global_argv, *argv], stdin=stdin, tool=tool.name)
        if outcome.exit_code != 0:
            return _error_result(outcome)
        doc = outcome.document
        return types.CallToolResult(
            content=[types.TextContent(text=_dumps(doc))],
            structured_content=doc if isinstance(doc, dict) else None,
            _meta={"genmedia/exit_code": 0},
        )

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=RUNS_URI,
                    name="recent-runs",
                    title="Recent runs",
                    description=f"The {RECENT_RUNS} most recent runs of the run journal, "
                    "newest first (as `genmedia_list_runs` returns them).",
                    mime_type="application/json",
                )
            ]
        )

    async def list_templates(ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=SCHEMA_TEMPLATE,
                    name="model-schema",
                    title="Model schema",
                    description="A model's input and output fields by endpoint id, e.g. "
                    f"{SCHEMA_PREFIX}fal-ai/flux/schnell (the schema tool's document).",
                    mime_type="application/json",
                )
            ]
        )

    async def read_resource(
        ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri == RUNS_URI:
            doc: Any = await anyio.to_thread.run_sync(recent_runs, options, disabled)
        elif uri.startswith(SCHEMA_PREFIX) and len(uri) > len(SCHEMA_PREFIX):
            endpoint = uri[len(SCHEMA_PREFIX) :]
            outcome = await run_command(ctx, [*global_argv, "schema", "--", endpoint])
            if outcome.exit_code != 0:
                error = outcome.error or {"error": "schema failed"}
                raise MCPError(RESOURCE_NOT_FOUND, str(error.get("error")), data=error)
            doc = outcome.document
        else:
            raise MCPError(
                RESOURCE_NOT_FOUND,
                f"Unknown resource: {uri}",
                data={"hint": f"{RUNS_URI} or {SCHEMA_TEMPLATE}"},
            )
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=uri, mime_type="application/json", text=_dumps(doc))
            ]
        )

    return Server(
        "genmedia",
        version=__version__,
        title="genmedia" + (f" ({', '.join(marked)})" if marked else ""),
        instructions=INSTRUCTIONS + "".join(f"{line}\n" for line in banners),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )


async def run_command(
    ctx: Any, argv: Sequence[str], *, stdin: str | None = None, tool: str | None = None
) -> Outcome:
    """Run ``genmedia ARGV`` on its own thread; events become progress notifications."""
    token = anyio.lowlevel.current_token()
    session = getattr(ctx, "session", None)
    step = [0]

    def on_event(event: dict[str, Any]) -> None:
        message = _event_message(event)
        if session is None or message is None:
            return
        step[0] += 1
        anyio.from_thread.run(session.report_progress, float(step[0]), None, message, token=token)

    invocation = Invocation(argv, stdin=stdin, on_event=on_event)
    invocation.start()
    try:
        await anyio.to_thread.run_sync(invocation.done.wait, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        # The client cancelled the call: Ctrl-C, the CLI's way (the job keeps running).
        invocation.interrupt()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                invocation.done.wait, INTERRUPT_GRACE_S, abandon_on_cancel=True
            )
            _report_interrupted(invocation, tool)
        raise
    assert invocation.outcome is not None
    return invocation.outcome


def _report_interrupted(invocation: Invocation, tool: str | None) -> None:
    """The cancelled call's error object, one JSON line on the server's stderr (its
    response is never sent: the client cancelled it)."""
    outcome = invocation.outcome
    error = (outcome.error if outcome else None) or {
        "error": "Interrupted: the call was cancelled and has not stopped yet",
        "details": {"hint": "genmedia history list shows the job if one was submitted"},
    }
    error = dict(error)
    details = dict(error.get("details") or {})
    if tool:
        details.setdefault("tool", tool)
    error["details"] = details
    try:
        sys.stderr.write(json.dumps(error, ensure_ascii=False, default=str) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _event_message(event: Mapping[str, Any]) -> str | None:
    kind = event.get("event")
    if kind == "submitted":
        return f"submitted {event.get('request_id')} (next: {event.get('next')})"
    if kind == "status":
        where = f" (queue position {event['queue_position']})" if "queue_position" in event else ""
        return f"{event.get('status')}{where}"
    if kind == "log":
        return f"log: {event.get('message')}"
    if kind == "uploaded":
        return f"uploaded {event.get('path')} for {event.get('field')}"
    if kind == "progress":
        total = event.get("total")
        done = event.get("done")
        share = f" {100 * done / total:.0f}%" if total and done is not None else ""
        return f"{event.get('label')}{share}"
    if kind == "warning":
        return f"warning: {event.get('message')}"
    return None


def _check_arguments(tool: ToolSpec, arguments: dict[str, Any]) -> Outcome | None:
    """The tool's schema, checked before anything runs: a usage error (exit 2) in the
    CLI's error shape."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(tool.input_schema)
    problems = sorted(validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
    if not problems:
        return None
    issues = [
        {
            "field": ".".join(map(str, p.absolute_path)) or None,
            "message": p.message,
        }
        for p in problems
    ]
    first = issues[0]
    where = f"{first['field']}: " if first["field"] else ""
    return Outcome(
        2,
        error={
            "error": f"Invalid arguments for {tool.name} — {where}{first['message']}",
            "details": {
                "tool": tool.name,
                "validation_errors": [{k: v for k, v in i.items() if v} for i in issues],
                "hint": "the tool's inputSchema (tools/list) lists its arguments",
            },
        },
    )


def _error_result(outcome: Outcome) -> types.CallToolResult:
    """A failed call: the error object (or, when the command printed its document and
    failed anyway, such as a failed download, that document)."""
    body = outcome.error if outcome.error is not None else outcome.document
    return types.CallToolResult(
        content=[types.TextContent(text=_dumps(body))],
        structured_content=body if isinstance(body, dict) else None,
        is_error=True,
        _meta={"genmedia/exit_code": outcome.exit_code},
    )


def _tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema,
        annotations=types.ToolAnnotations(
            title=spec.title,
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            open_world_hint=True,
        ),
    )


def _dumps(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str)


def recent_runs(
    global_options: Mapping[str, Any] | None = None,
    disabled: Sequence[str] = (),
    limit: int = RECENT_RUNS,
) -> dict[str, Any]:
    """``{"runs": [...]}``: the journal's recent runs through ``genmedia_list_runs``, read
    under the server's global options (those of any plugin)."""
    from genmedia.context import AppContext
    from genmedia.records import RunQuery
    from genmedia.serialization import unstructure

    app = AppContext(
        json_flag=True, global_options=dict(global_options or {}), disabled_plugins=tuple(disabled)
    )
    try:
        app.configure()
        records = app.pm.hook.genmedia_list_runs(query=RunQuery(limit=limit), ctx=app) or []
        return {"runs": unstructure(list(records))}
    finally:
        app.close()


def serve_stdio(server: Server[Any]) -> None:
    """Serve until the client closes stdin."""

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)
