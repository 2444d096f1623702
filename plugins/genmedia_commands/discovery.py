"""``models``, ``schema`` and ``upload``: provider-agnostic discovery and storage."""

from __future__ import annotations

from typing import Any

import click

from genmedia import errors
from genmedia.cli import get_app
from genmedia.output import emit, esc
from genmedia_commands.completion import complete_endpoint


def split_multi(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeated and comma-separated values, de-duplicated in order."""
    seen: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            if part.strip():
                seen[part.strip()] = None
    return tuple(seen)


def _render_models(doc: dict[str, Any], console: Any) -> None:
    from rich.markup import escape
    from rich.table import Column, Table

    models = doc.get("models", [])
    widest = max((len(m["endpoint_id"]) for m in models), default=8)
    # the endpoint id is what people copy: never truncated or wrapped; the name gives way
    table = Table(
        Column("endpoint", no_wrap=True, min_width=widest),
        Column("name", overflow="fold", ratio=1),
        Column("category", no_wrap=True),
        Column("status", no_wrap=True),
        box=None,
    )
    for m in models:
        table.add_row(
            m["endpoint_id"],
            escape(m.get("name") or ""),
            m.get("category") or "",
            m.get("status") or "",
        )
    console.print(table)
    if doc.get("next_cursor"):
        console.print(f"[dim]more: --cursor {esc(doc['next_cursor'])}[/]", markup=True)


@click.command()
@click.argument("query", required=False)
@click.option("--category", help="e.g. text-to-image, image-to-video, text-to-speech.")
@click.option(
    "--status",
    "status_",
    type=click.Choice(["active", "deprecated", "all"]),
    default="active",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--cursor", help="Continue from a previous page's next_cursor.")
@click.option(
    "--endpoint_id",
    "--endpoint-id",
    "endpoint_ids",
    multiple=True,
    shell_complete=complete_endpoint,
    help="Find these endpoints (repeatable or comma-separated).",
)
@click.option(
    "--expand",
    multiple=True,
    help="Ask the provider for more fields (its values; e.g. openapi-3.0).",
)
@click.option(
    "--provider",
    metavar="NAME",
    help="Search this provider (default: the configured default_provider, else the "
    "catch-all provider).",
)
@click.option(
    "--no-classify",
    is_flag=True,
    help="Do not infer a category from the query (see inferred_category in the output).",
)
@click.pass_context
def models(
    ctx: click.Context,
    query: str | None,
    category: str | None,
    status_: str,
    limit: int,
    cursor: str | None,
    endpoint_ids: tuple[str, ...],
    expand: tuple[str, ...],
    provider: str | None,
    no_classify: bool,
) -> None:
    """Search and list models.

    A query that describes a task ("generate a video of a dog running") is searched in
    the category it implies, reported as inferred_category; --category or --no-classify
    turns that off.
    """
    app = get_app(ctx)
    expand = split_multi(expand)  # the provider checks the values
    from genmedia.types import ModelQuery

    text = (query or "").strip() or None
    inferred = None
    if text and not category and not no_classify and not endpoint_ids and not cursor:
        # a plugin reads the words (the routing plugin's prompt classifier)
        inferred = app.pm.hook.genmedia_infer_category(query=text, ctx=app)
    q = ModelQuery(
        query=text,
        category=category or inferred,
        status=None if status_ == "all" else status_,
        limit=limit,
        cursor=cursor,
        endpoint_ids=split_multi(endpoint_ids),
        expand=expand,
    )
    prov = app.default_provider(provider)
    page = prov.search(q)
    widened = False
    if inferred and not page.models:
        # nothing in the inferred category: the query alone is a better answer than none
        import attrs

        page = prov.search(attrs.evolve(q, category=None))
        widened = True
    doc: dict[str, Any] = {}
    if q.query:
        doc["query"] = q.query
    if category:
        doc["category"] = category
    if inferred:
        doc["inferred_category"] = inferred
        if widened:
            doc["hint"] = f"nothing in {inferred}: showing matches from every category"
    if q.status:
        doc["status"] = q.status
    if q.endpoint_ids:
        doc["endpoint_ids"] = list(q.endpoint_ids)
    if q.expand:
        doc["expand"] = list(q.expand)
    doc.update(count=len(page.models), has_more=page.has_more)
    if page.next_cursor:
        doc["next_cursor"] = page.next_cursor
    doc["models"] = page.models
    from genmedia_commands.endpoints import remember

    remember(endpoints=[m.endpoint_id for m in page.models])  # for shell completion
    emit(app, doc, pretty=_render_models)


def _render_schema(doc: dict[str, Any], console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    title = escape(doc.get("name") or doc["endpoint_id"])
    console.print(f"[bold]{title}[/] {esc(doc.get('category') or '')}", markup=True)
    from genmedia.types import FieldSchema
    from genmedia_commands.model_help import format_default, format_range

    for side in ("input", "output"):
        table = Table(
            side, "type", "range", "default", "description", box=None, title_justify="left"
        )
        for f in doc.get(side) or ():
            extra = f" ({'|'.join(map(format_default, f['enum']))})" if f.get("enum") else ""
            name = f["name"] + (" *" if f.get("required") else "")
            bounds = FieldSchema(
                f["name"],
                f["type"],
                minimum=f.get("minimum"),
                maximum=f.get("maximum"),
                exclusive_minimum=f.get("exclusive_minimum"),
                exclusive_maximum=f.get("exclusive_maximum"),
            )
            table.add_row(
                escape(name),
                escape(f["type"] + extra),
                escape(format_range(bounds)),
                escape(format_default(f["default"]) if "default" in f else ""),
                escape(f.get("description") or ""),
            )
        console.print(table)


@click.command()
@click.argument("endpoint_id", metavar="ENDPOINT", shell_complete=complete_endpoint)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["compact", "openapi"]),
    default="compact",
    show_default=True,
    help="compact: resolved fields; openapi: the raw document.",
)
@click.option("--provider", metavar="NAME", help="Use this provider.")
@click.option(
    "--refresh-schema",
    is_flag=True,
    help="Fetch the schema again even when a fresh copy is cached.",
)
@click.pass_context
def schema(
    ctx: click.Context, endpoint_id: str, format_: str, provider: str | None, refresh_schema: bool
) -> None:
    """Show a model's input and output fields."""
    from genmedia.pipeline import load_schema

    app = get_app(ctx)
    prov = app.provider(provider) if provider else app.resolve_provider(endpoint_id)
    model_schema = load_schema(app, prov, endpoint_id, refresh=refresh_schema)
    if model_schema is None:
        raise errors.NotFoundError(f"OpenAPI schema not available for: {endpoint_id}")
    if model_schema.input is not None:
        from genmedia_commands.endpoints import remember

        remember(inputs={endpoint_id: [f.name for f in model_schema.input]})
    if format_ == "openapi":
        if model_schema.openapi is None:
            raise errors.NotFoundError(f"OpenAPI schema not available for: {endpoint_id}")
        app.json_flag = True  # upstream prints the raw document as JSON even on a terminal
        emit(app, model_schema.openapi)
        return
    emit(app, model_schema, pretty=_render_schema)


@click.command()
@click.argument("source", metavar="PATH_OR_URL")
@click.option(
    "--provider",
    metavar="NAME",
    help="Upload to this provider (default: the configured default_provider, else the "
    "catch-all provider).",
)
@click.pass_context
def upload(ctx: click.Context, source: str, provider: str | None) -> None:
    """Upload a local file (or a URL's content) and print its hosted URL."""
    from genmedia.progress import transfer_progress

    app = get_app(ctx)
    prov = app.default_provider(provider)
    with transfer_progress(app, f"upload {source}") as progress:
        uploaded = prov.upload(source, progress=progress)
    emit(
        app,
        {
            "url": uploaded.url,
            "cdn_url": uploaded.url,
            "file_name": uploaded.file_name,
            "content_type": uploaded.content_type,
            "size_bytes": uploaded.size_bytes,
            "hint": "Use this URL as input to models.",
        },
    )
