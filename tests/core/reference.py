"""Render the command reference (docs/reference.md) from `genmedia --help --json`."""

from __future__ import annotations

import inspect
from typing import Any

HEADER = """# Command reference

Generated from `genmedia --help --json` by `tests/core/test_meta.py`
(`GENMEDIA_UPDATE_DOCS=1 pytest tests/core/test_meta.py -k reference`); a test fails when it
is stale. See [Commands](commands.md) for examples and output shapes.
"""


def _type(param: dict[str, Any]) -> str:
    t = param.get("type") or {}
    if t.get("param_type") == "Choice":
        return " | ".join(map(str, t.get("choices") or ()))
    name = t.get("name") or t.get("param_type") or ""
    return "flag" if param.get("is_flag") else str(name).lower()


def _default(param: dict[str, Any]) -> str:
    value = param.get("default")
    if value in (None, False, (), []) or param.get("name", "").startswith("_"):
        return ""
    return f"`{value}`"


def _cell(text: str | None) -> str:
    return (text or "").replace("\n", " ").replace("|", "\\|").strip()


def _render(node: dict[str, Any], path: list[str], out: list[str]) -> None:
    level = "#" * min(len(path) + 1, 4)
    out.append(f"\n{level} `{' '.join(path)}`\n")
    if node.get("help"):
        out.append(inspect.cleandoc(node["help"]) + "\n")
    args = [p for p in node.get("params", []) if p.get("param_type_name") == "argument"]
    opts = [
        p
        for p in node.get("params", [])
        if p.get("param_type_name") == "option" and "--help" not in p.get("opts", [])
    ]
    if args:
        names = " ".join(p["name"].upper() for p in args)
        out.append(f"Arguments: `{names}`\n")
    if opts:
        out.append("| option | type | default | help |")
        out.append("|---|---|---|---|")
        for p in opts:
            flags = ", ".join(f"`{o}`" for o in p.get("opts", []) + p.get("secondary_opts", []))
            out.append(f"| {flags} | {_type(p)} | {_default(p)} | {_cell(p.get('help'))} |")
        out.append("")
    for name, sub in sorted((node.get("commands") or {}).items()):
        _render(sub, [*path, name], out)


def render_reference(tree: dict[str, Any]) -> str:
    out = [HEADER]
    _render(tree, ["genmedia"], out)
    return "\n".join(out).rstrip() + "\n"
