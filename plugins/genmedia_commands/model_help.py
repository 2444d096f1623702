"""``genmedia run ENDPOINT --help``: the model's inputs rendered as flags."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import FieldSchema


def flag_info(field: FieldSchema) -> dict[str, Any]:
    """One model input as a flag (upstream's ``run --help --json`` option shape)."""
    description = field.description or ""
    info: dict[str, Any] = {"flag": f"--{field.name}", "required": field.required}
    if field.enum:
        info["type"] = "enum"
        info["enum"] = field.enum
        description = f"{description} (enum: {'|'.join(map(str, field.enum))})".strip()
    elif field.type == "boolean":
        info["type"] = "boolean"
    else:
        info["type"] = "string"
        description = f"{description} ({field.type})".strip()
    if field.minimum is not None or field.maximum is not None:
        info["range"] = [field.minimum, field.maximum]
    # genmedia's additions: the schema's own type and bounds (upstream folds them into
    # "type": "string" and the description)
    info["value_type"] = field.type
    bounds = format_range(field)
    if bounds:
        info["bounds"] = bounds
    info["description"] = description
    if field.has_default:
        default = field.default
        info["default"] = default if isinstance(default, bool) else _stringify(default)
    if field.is_file or field.items_is_file:
        info["accepts_file"] = True
    return info


def format_range(field: FieldSchema) -> str:
    """``1–4``, ``≥ 0``, ``0 < x ≤ 1``: a field's bounds as a person reads them."""
    low = field.exclusive_minimum if field.exclusive_minimum is not None else field.minimum
    high = field.exclusive_maximum if field.exclusive_maximum is not None else field.maximum
    low_op = "<" if field.exclusive_minimum is not None else "≤"
    high_op = "<" if field.exclusive_maximum is not None else "≤"
    if low is not None and high is not None:
        if low_op == high_op == "≤":
            return f"{_num(low)}–{_num(high)}"
        return f"{_num(low)} {low_op} x {high_op} {_num(high)}"
    if low is not None:
        return f"{'>' if low_op == '<' else '≥'} {_num(low)}"
    if high is not None:
        return f"{high_op} {_num(high)}"
    return ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def format_default(value: Any) -> str:
    """A default as JSON (``true``, ``null``, ``[1, 2]``); strings as they are."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _stringify(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def model_help_info(
    app: AppContext, endpoint: str, command: click.Command, *, refresh: bool = False
) -> dict[str, Any]:
    from genmedia.pipeline import load_schema

    provider = app.resolve_provider(endpoint)
    schema = load_schema(app, provider, endpoint, refresh=refresh)
    if schema is None or schema.input is None:
        from genmedia.errors import NotFoundError

        raise NotFoundError(f"No input schema for {endpoint}", {"endpoint_id": endpoint})
    from genmedia_commands.endpoints import remember

    remember(inputs={endpoint: [f.name for f in schema.input]})  # for shell completion
    fields = sorted(schema.input, key=lambda f: (not f.required, f.name))
    required = " ".join(f"--{f.name} VALUE" for f in fields if f.required)
    title = " — ".join(x for x in (schema.name, schema.description) if x)
    own = []
    for param in command.params:
        if isinstance(param, click.Option):
            own.append(
                {
                    "flag": max(param.opts, key=len),
                    "type": "boolean" if param.is_flag else "string",
                    "required": False,
                    "description": param.help or "",
                }
            )
    return {
        "name": "run",
        "description": f"Run {title}" if title else f"Run {endpoint}",
        "endpoint_id": endpoint,
        "usage": f"genmedia run {endpoint} {required}".strip() + " [OPTIONS]",
        "arguments": [
            {
                "name": "endpointId",
                "type": "positional",
                "required": False,
                "default": endpoint,
                "description": "Model endpoint ID",
            }
        ],
        "options": [flag_info(f) for f in fields],
        "run_options": own,
    }


def render_model_help(app: AppContext, info: dict[str, Any], static_help: str) -> None:
    from rich.table import Table

    from genmedia.output import esc, stdout_console

    console = stdout_console(app)
    console.print(f"[bold]{esc(info['description'])}[/]", markup=True)
    console.print(f"Usage: {info['usage']}\n")
    table = Table("input", "type", "default", "description", box=None, show_edge=False)
    for opt in info["options"]:
        flag = opt["flag"] + (" *" if opt["required"] else "")
        kind = opt.get("value_type") or opt["type"]
        description = opt["description"]
        if opt.get("enum"):
            kind = "|".join(map(format_default, opt["enum"]))
            description = description.removesuffix(f"(enum: {'|'.join(map(str, opt['enum']))})")
        else:
            description = description.removesuffix(f"({opt.get('value_type')})")
        if opt.get("bounds"):
            kind += f" {opt['bounds']}"
        default = format_default(opt["default"]) if "default" in opt else ""
        table.add_row(flag, kind, default, description.strip())
    console.print(table)
    console.print("\n[dim]* required. genmedia's own options:[/]", markup=True)
    console.print(static_help.split("Options:", 1)[-1])
