"""The command tree as MCP tools: one tool per runnable command, generated, never written.

:func:`command_tools` walks the root group the way ``genmedia --help --json`` does
(``list_commands`` / ``get_command``, lazy commands loaded) and turns every leaf command
into a :class:`ToolSpec`: its name (the command path joined with ``_``), its description
(the command's help) and a JSON Schema of its arguments and options. A command a plugin
adds tomorrow becomes a tool without a line here, unless the command declares itself unsuitable
for agents (``genmedia.cli.not_an_agent_tool``: interactive, a long-running server…), with
the reason; the owning plugin marks its own commands, nothing here names them.

:meth:`ToolSpec.argv` turns a tool call's arguments back into the command line the CLI
parses, so a tool call runs exactly the code ``genmedia …`` runs.

Free-form model inputs (a command's variadic ``UNPROCESSED`` argument, ``run``'s
``--prompt x --num_images 2``) become one JSON object property, ``input``. The object is
handed to the command through its whole-object option (``run --input -``: a JSON object
on stdin) when :data:`OBJECT_INPUT` names one, so values keep their JSON types and go
through the same coercion and local validation as on the command line.

This module imports click only; the MCP SDK is imported by :mod:`genmedia_mcp.server`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import click

#: Commands whose free-form inputs are passed as one JSON object through an option
#: that reads a JSON object from stdin when given ``-``.
OBJECT_INPUT: Mapping[str, str] = {"run": "--input"}

#: Options that a tool never exposes: the ``input`` object replaces ``run -i``.
HIDDEN_OPTIONS: Mapping[str, frozenset[str]] = {"run": frozenset({"inputs"})}

#: The tool property that carries free-form model inputs.
INPUT_PROPERTY = "input"


@attrs.frozen
class Param:
    """One tool property and how it goes back onto the command line."""

    prop: str
    kind: str  # "argument", "option", "flag", "count", "input"
    schema: dict[str, Any]
    required: bool = False
    opt: str | None = None
    off_opt: str | None = None  # the --no-x of a --x/--no-x flag
    variadic: bool = False
    multiple: bool = False


@attrs.frozen
class ToolSpec:
    """One command as an MCP tool."""

    name: str
    path: tuple[str, ...]
    title: str
    description: str
    params: tuple[Param, ...]
    destructive: bool = False
    read_only: bool = False

    @property
    def input_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {p.prop: p.schema for p in self.params},
            "additionalProperties": False,
        }
        required = [p.prop for p in self.params if p.required]
        if required:
            schema["required"] = required
        return schema

    def argv(self, arguments: Mapping[str, Any]) -> tuple[list[str], str | None]:
        """The command line for ``arguments`` (already schema-checked) and the stdin text
        (the ``input`` object's JSON, when the command takes it that way)."""
        positional: list[str] = []
        options: list[str] = []
        tail: list[str] = []
        stdin: str | None = None
        for param in self.params:
            if param.prop not in arguments or arguments[param.prop] is None:
                continue
            value = arguments[param.prop]
            if param.kind == "input":
                object_option = OBJECT_INPUT.get(" ".join(self.path))
                if object_option:
                    if value:
                        options += [object_option, "-"]
                        stdin = json.dumps(value)
                else:  # a third-party free-form command: --name value pairs after --
                    for key, item in value.items():
                        tail += [f"--{key}", item if isinstance(item, str) else json.dumps(item)]
            elif param.kind == "argument":
                values = value if isinstance(value, list) else [value]
                positional += [_text(v) for v in values]
            elif param.kind == "flag":
                if value:
                    options.append(str(param.opt))
                elif param.off_opt:
                    options.append(param.off_opt)
            elif param.kind == "count":
                options += [str(param.opt)] * int(value)
            else:
                values = value if param.multiple else [value]
                for item in values:
                    if isinstance(item, list):  # nargs > 1
                        options += [str(param.opt), *map(_text, item)]
                    else:
                        options += [str(param.opt), _text(item)]
        if tail:  # `--` ends option parsing: the free-form inputs are all after it
            return [*self.path, *positional, *options, "--", *tail], stdin
        if any(v.startswith("-") for v in positional) and not stdin:
            # a value that looks like an option (a negative number, "--x" in a query)
            return [*self.path, *options, "--", *positional], stdin
        line = [*self.path, *positional, *options]
        return line, stdin


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def tool_name(path: tuple[str, ...]) -> str:
    """``("assets", "tags", "for-asset")`` → ``assets_tags_for_asset``."""
    return "_".join(part.replace("-", "_") for part in path)


def walk(
    group: click.Group, ctx: click.Context, excluded: str | None = None
) -> Iterator[tuple[tuple[str, ...], click.Command, str | None]]:
    """Every runnable command under ``group`` with its path, as ``--help --json`` walks,
    and why it is not an agent tool (its own mark or its group's), or None."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        load = getattr(command, "load", None)
        if callable(load):  # a LazyCommand: the real command describes itself
            command = load()
        reason = excluded or agent_tool_exclusion(command)
        sub_ctx = click.Context(command, info_name=name, parent=ctx)
        if isinstance(command, click.Group):
            for path, leaf, leaf_reason in walk(command, sub_ctx, reason):
                yield (name, *path), leaf, leaf_reason
        else:
            yield (name,), command, reason


def command_tools(root: click.Group, ctx: click.Context) -> list[ToolSpec]:
    """The tools of the command tree under ``root`` (``ctx`` is the root's context)."""
    tools = [_tool(path, command) for path, command, reason in walk(root, ctx) if not reason]
    return sorted(tools, key=lambda t: t.name)


def excluded_commands(root: click.Group, ctx: click.Context) -> dict[str, str]:
    """The command paths of the tree that are deliberately not tools, with the reason."""
    return {
        " ".join(path): reason
        for path, _, reason in sorted(walk(root, ctx), key=lambda t: t[0])
        if reason
    }


def agent_tool_exclusion(command: click.Command) -> str | None:
    """Why ``command`` (a real one, not a ``LazyCommand`` stub) is not an agent tool: its
    ``not_an_agent_tool`` mark (``genmedia.cli.not_an_agent_tool``), or None."""
    reason = getattr(command, "not_an_agent_tool", None)
    return reason if isinstance(reason, str) and reason else None


def _tool(path: tuple[str, ...], command: click.Command) -> ToolSpec:
    hidden = HIDDEN_OPTIONS.get(" ".join(path), frozenset())
    params: list[Param] = []
    for p in command.params:
        if p.name is None or p.name in hidden or getattr(p, "hidden", False):
            continue
        if isinstance(p, click.Option) and (p.is_eager or "--help" in p.opts):
            continue
        param = _param(p)
        if param is not None and param.prop not in {q.prop for q in params}:
            params.append(param)
    names = {p.name for p in command.params if isinstance(p, click.Option)}
    help_text = _clean(command.help or command.short_help or "")
    description = f"{help_text}\n\nCLI: genmedia {' '.join(path)} (JSON output).".strip()
    destructive = path[-1] in ("delete", "remove", "reset") or "yes" in names
    read_only = path[-1] in ("list", "get", "show", "search", "browse", "path") or path[0] in (
        "models", "schema", "docs", "pricing", "version", "plugins",
    )  # fmt: skip
    return ToolSpec(
        name=tool_name(path),
        path=path,
        title=f"genmedia {' '.join(path)}",
        description=description,
        params=tuple(params),
        destructive=destructive,
        read_only=read_only and not destructive,
    )


def _clean(text: str) -> str:
    import inspect

    return inspect.cleandoc(text).replace("\b\n", "")


def _prop(p: click.Parameter) -> str:
    return str(p.name).rstrip("_")


def _param(p: click.Parameter) -> Param | None:
    described = _describe(p)
    if isinstance(p, click.Argument):
        if isinstance(p.type, type(click.UNPROCESSED)) and p.nargs == -1:
            schema: dict[str, Any] = {
                "type": "object",
                "description": "The model inputs as one JSON object, e.g. "
                '{"prompt": "a cat", "num_images": 2} (see the schema tool for the fields). '
                "Checked locally against the model's schema before anything is submitted.",
            }
            return Param(INPUT_PROPERTY, "input", schema, required=False)
        item = _type_schema(p.type)
        metavar = p.metavar or str(p.name).upper()
        if p.nargs == -1:
            schema = {"type": "array", "items": item}
            if p.required:
                schema["minItems"] = 1
            schema["description"] = (
                f"{metavar} ({'one or more' if p.required else 'any number of'} values)"
            )
        else:
            schema = dict(item, description=metavar)
        return Param(_prop(p), "argument", schema, required=p.required, variadic=p.nargs == -1)
    if not isinstance(p, click.Option):
        return None
    opt = next((o for o in p.opts if o.startswith("--")), p.opts[0])
    if p.count:
        schema = {"type": "integer", "minimum": 0, **described}
        return Param(_prop(p), "count", schema, opt=opt)
    if p.is_flag and p.is_bool_flag:
        schema = {"type": "boolean", **described}
        off = next((o for o in p.secondary_opts if o.startswith("--")), None)
        return Param(_prop(p), "flag", schema, required=p.required, opt=opt, off_opt=off)
    item = _type_schema(p.type)
    if p.nargs > 1:
        item = {"type": "array", "items": item, "minItems": p.nargs, "maxItems": p.nargs}
    schema = {"type": "array", "items": item} if p.multiple else dict(item)
    schema.update(described)
    return Param(_prop(p), "option", schema, required=p.required, opt=opt, multiple=p.multiple)


def _describe(p: click.Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    help_text = getattr(p, "help", None)
    if help_text:
        out["description"] = " ".join(str(help_text).split())
    default = p.default
    if (
        isinstance(p, click.Option)
        and not callable(default)
        and default not in (None, (), [])
        and not (p.is_flag and default is False)
        and isinstance(default, (str, int, float, bool))
        and type(default).__name__ != "Sentinel"
    ):
        out["default"] = default
    return out


def _type_schema(t: click.ParamType) -> dict[str, Any]:  # type: ignore[type-arg]
    if isinstance(t, click.Choice):
        return {"type": "string", "enum": [str(c) for c in t.choices]}
    if isinstance(t, (click.IntRange, click.FloatRange)):
        schema: dict[str, Any] = {"type": "integer" if isinstance(t, click.IntRange) else "number"}
        if t.min is not None:
            schema["exclusiveMinimum" if t.min_open else "minimum"] = t.min
        if t.max is not None:
            schema["exclusiveMaximum" if t.max_open else "maximum"] = t.max
        return schema
    if t is click.INT or isinstance(t, type(click.INT)):
        return {"type": "integer"}
    if t is click.FLOAT or isinstance(t, type(click.FLOAT)):
        return {"type": "number"}
    if t is click.BOOL or isinstance(t, type(click.BOOL)):
        return {"type": "boolean"}
    if isinstance(t, click.Tuple):
        items = [_type_schema(x) for x in t.types]
        return {"type": "array", "prefixItems": items, "minItems": len(items)}
    return {"type": "string"}
