"""Where the gallery lives (imported on the run path by the refresh: standard library only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext


def default_out_dir(ctx: AppContext) -> Path:
    """Config ``plugins.gallery.out``, else ``<data dir>/gallery``."""
    configured = ctx.settings.plugin_config("gallery").get("out")
    if configured:
        return Path(str(configured)).expanduser()
    return ctx.settings.data_dir / "gallery"
