"""Hook implementations of the gallery plugin.

Imported on every command, so only click and the core's hook marker at module level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from genmedia import hookimpl, truthy

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import RunResult


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    cli.add_command(
        LazyCommand(
            "gallery",
            "genmedia_gallery.commands:gallery",
            "Build, open or serve an HTML gallery of your runs.",
        )
    )


@hookimpl(trylast=True)
def genmedia_handle_result(
    result: RunResult, options: Mapping[str, Any], ctx: AppContext
) -> Mapping[str, Any] | None:
    """With ``plugins.gallery.auto_refresh = true``, rebuild the gallery in the background
    (``GENMEDIA_NO_GALLERY=1`` turns it off for one process).

    ``trylast`` and registered after ``history``: the journal row is complete by now.
    """
    if ctx.settings.plugin_config("gallery").get("auto_refresh") is not True:
        return None
    import os

    if truthy(os.environ.get("GENMEDIA_NO_GALLERY")):
        return None
    from genmedia_gallery.refresh import refresh_in_background

    refresh_in_background(ctx)
    return None
