"""``genmedia gallery``: build, open and serve the HTML gallery of the run journal.

Imported when commands are registered (also for ``genmedia --help``): click and the
standard library only at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from genmedia.cli import not_an_agent_tool

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

DEFAULT_LIMIT = 500
DEFAULT_PORT = 8765
STATUS_CHOICES = ("completed", "failed", "cancelled", "pending")

_out_option = click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="The gallery directory (default: config plugins.gallery.out, else DATA_DIR/gallery).",
)


@click.group()
def gallery() -> None:
    """A static HTML gallery of your runs, built from the run journal.

    `genmedia gallery build` writes it (one self-contained index.html; images, video and
    audio play from the files `--download` saved, else from their expiring remote URLs);
    `gallery open` opens it; `gallery serve` serves it on 127.0.0.1 (seekable video).
    """


def _out(app: AppContext, out: Path | None) -> Path:
    from genmedia_gallery.build import default_out_dir

    return (out or default_out_dir(app)).expanduser().absolute()


@gallery.command("build")
@_out_option
@click.option(
    "--since", metavar="WHEN", help="Only runs since: 30m, 2h, 7d, 1w, today, or an ISO date."
)
@click.option(
    "--endpoint",
    metavar="ENDPOINT",
    help="Only this endpoint (a prefix like fal-ai/flux matches fal-ai/flux/dev; * globs).",
)
@click.option("--search", metavar="TEXT", help="Only runs whose prompt has every word of TEXT.")
@click.option("--batch", metavar="ID", help="Only the runs of this batch.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUS_CHOICES),
    help="Only runs in this state (repeatable; pending = every unfinished state). Default: all.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many runs, newest first (0 = all).",
)
@click.option(
    "--costs",
    is_flag=True,
    help="Ask each run's provider for a cost estimate (network; kept for later builds).",
)
@click.pass_context
def build_command(
    ctx: click.Context,
    out: Path | None,
    since: str | None,
    endpoint: str | None,
    search: str | None,
    batch: str | None,
    statuses: tuple[str, ...],
    limit: int,
    costs: bool,
) -> None:
    """Write the gallery: index.html (self-contained, works from file://) and gallery.json."""
    from genmedia.cli import get_app
    from genmedia.output import emit
    from genmedia.records import RunQuery, parse_since
    from genmedia_gallery.build import build

    app = get_app(ctx)
    query = RunQuery(
        endpoint=endpoint,
        statuses=statuses,
        since=parse_since(since) if since else None,
        text=search or None,
        batch=batch,
        limit=limit or None,
    )
    report = build(app, query, _out(app, out), estimate_costs=costs)
    emit(app, report, pretty=_render_build)


def _render_build(doc: Any, console: Any) -> None:
    from genmedia.output import esc

    console.print(
        f"[bold]{doc['runs']}[/] runs, {doc['media']} media "
        f"({doc['local_files']} local, {doc['remote_files']} remote) → {esc(doc['path'])}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"open it: genmedia gallery open   ({esc(doc['url'])})", highlight=False)


@not_an_agent_tool("opens a browser on the user's desktop")
@gallery.command("open")
@_out_option
@click.option("--print", "print_only", is_flag=True, help="Print the path and URL; open nothing.")
@click.pass_context
def open_command(ctx: click.Context, out: Path | None, print_only: bool) -> None:
    """Open the gallery in the browser (building it first when there is none).

    In JSON mode nothing is opened: the path and file:// URL are printed.
    """
    from genmedia.cli import get_app
    from genmedia.output import emit
    from genmedia.records import RunQuery
    from genmedia_gallery.build import INDEX, build

    app = get_app(ctx)
    out_dir = _out(app, out)
    index = out_dir / INDEX
    built = False
    if not index.is_file():
        build(app, RunQuery(limit=DEFAULT_LIMIT), out_dir)
        built = True
    doc: dict[str, Any] = {
        "path": str(index),
        "url": index.as_uri(),
        "built": built,
        "opened": False,
    }
    if not print_only and not app.json_mode:
        import webbrowser

        doc["opened"] = bool(webbrowser.open(index.as_uri()))
    emit(
        app,
        doc,
        pretty=lambda d, console: console.print(
            ("opened " if d["opened"] else "") + d["url"], highlight=False, soft_wrap=True
        ),
    )


@not_an_agent_tool("a long-running web server")
@gallery.command("serve")
@_out_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port on 127.0.0.1 (0 = any free port).",
)
@click.option("--build/--no-build", "rebuild", default=True, help="Rebuild before serving.")
@click.pass_context
def serve_command(ctx: click.Context, out: Path | None, port: int, rebuild: bool) -> None:
    """Serve the gallery on 127.0.0.1 until Ctrl-C (Range requests: videos seek).

    Only the gallery's own files and the media files it links to are served.
    """
    from genmedia import errors
    from genmedia.cli import get_app
    from genmedia.output import emit
    from genmedia.records import RunQuery
    from genmedia_gallery.build import INDEX, build
    from genmedia_gallery.serve import GalleryServer

    app = get_app(ctx)
    out_dir = _out(app, out)
    if rebuild or not (out_dir / INDEX).is_file():
        build(app, RunQuery(limit=DEFAULT_LIMIT), out_dir)
    try:
        server = GalleryServer(out_dir, port=port)
    except OSError as exc:
        raise errors.GenmediaError(
            f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}",
            {"hint": "choose another --port (0 = any free port)"},
        ) from None
    emit(
        app,
        {"url": server.url, "root": str(server.root), "path": str(out_dir / INDEX)},
        pretty=lambda d, console: console.print(
            f"serving {d['url']}  (Ctrl-C to stop)", highlight=False, soft_wrap=True
        ),
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
