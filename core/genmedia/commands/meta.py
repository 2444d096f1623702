"""``genmedia plugins`` and ``genmedia version``."""

from __future__ import annotations

import sys
from typing import Any

import click

from genmedia import __version__
from genmedia.cli import get_app
from genmedia.output import emit


def _render_plugins(doc: Any, console: Any) -> None:
    from rich.table import Table

    table = Table("plugin", "version", "built-in", "hooks", "error", box=None)
    for row in doc:
        table.add_row(
            row["name"],
            row.get("version") or "",
            "yes" if row["builtin"] else "",
            ", ".join(h.removeprefix("genmedia_") for h in row["hooks"]),
            row.get("error") or "",
        )
    console.print(table)


@click.command()
@click.pass_context
def plugins(ctx: click.Context) -> None:
    """List plugins: name, version, distribution, hooks, load errors."""
    from genmedia.plugins import describe_plugins

    app = get_app(ctx)
    emit(app, describe_plugins(app.pm), pretty=_render_plugins)


@click.command()
@click.pass_context
def version(ctx: click.Context) -> None:
    """Print genmedia's version, Python's and the plugins' versions."""
    import platform

    from genmedia.plugins import describe_plugins

    app = get_app(ctx)
    doc: dict[str, Any] = {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "plugins": {p.name: p.version for p in describe_plugins(app.pm) if p.error is None},
    }
    emit(app, doc)
