"""``gallery build``: ask the run store for runs, write ``index.html`` and ``gallery.json``.

Both files are written atomically (a temporary file renamed over the old one), so a
browser or ``gallery serve`` never sees half a page, and concurrent builds (many genmedia
processes refreshing at once) each leave a complete gallery. ``gallery.json`` records the
local files the page links to: ``gallery serve`` serves those and nothing else.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.records import RunQuery

from genmedia_gallery.paths import default_out_dir

__all__ = ["INDEX", "MANIFEST", "BuildReport", "build", "default_out_dir", "read_manifest"]

INDEX = "index.html"
MANIFEST = "gallery.json"
TITLE = "genmedia gallery"


@attrs.frozen
class BuildReport:
    """What ``gallery build`` prints."""

    path: str
    url: str
    out_dir: str
    runs: int
    media: int
    local_files: int
    remote_files: int
    compare_groups: int
    #: runs with a cost estimate; with ``--costs``, how many could not be estimated.
    costs_known: int = 0
    costs_unavailable: int | None = None


def build(
    ctx: AppContext, query: RunQuery, out_dir: Path, *, estimate_costs: bool = False
) -> BuildReport:
    """Build the gallery; ``estimate_costs`` asks providers for the runs' unknown costs."""
    from genmedia.files import atomic_write
    from genmedia_gallery import costs
    from genmedia_gallery.cards import make_cards
    from genmedia_gallery.render import page

    out_dir = out_dir.expanduser().absolute()
    records = ctx.pm.hook.genmedia_list_runs(query=query, ctx=ctx) or []
    known = costs.load(out_dir)
    unavailable = None
    if estimate_costs:
        known, unavailable = costs.estimate_missing(ctx, records, known)
    cards = [attrs.evolve(c, cost=known.get(c.request_id)) for c in make_cards(records, out_dir)]
    generated = time.strftime("%Y-%m-%d %H:%M")
    html = page(cards, title=TITLE, generated=generated)
    local = sorted({m.path for c in cards for m in c.media if m.path})
    manifest: dict[str, Any] = {
        "generator": "genmedia gallery",
        "generated_at": time.time(),
        "runs": [c.request_id for c in cards],
        "local_files": local,
    }
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if estimate_costs:
            costs.save(out_dir, known)
        atomic_write(out_dir / MANIFEST, json.dumps(manifest, indent=1) + "\n", mode=0o600)
        atomic_write(out_dir / INDEX, html, mode=0o600)
    except OSError as exc:
        from genmedia import errors

        raise errors.GenmediaError(
            f"Cannot write the gallery: {exc.strerror or exc}", {"path": str(out_dir)}
        ) from None
    media = [m for c in cards for m in c.media]
    index = out_dir / INDEX
    return BuildReport(
        path=str(index),
        url=index.as_uri(),
        out_dir=str(out_dir),
        runs=len(cards),
        media=len(media),
        local_files=sum(1 for m in media if m.local),
        remote_files=sum(1 for m in media if not m.local),
        compare_groups=len({c.group for c in cards if c.group}),
        costs_known=sum(1 for c in cards if c.cost),
        costs_unavailable=unavailable,
    )


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
