"""``assets collections list|create|update|browse|add|remove``; get, delete, favorite and
unfavorite come from :mod:`.resources`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from genmedia_fal.assets.commands.common import (
    call,
    emit,
    idempotency_option,
    option,
    resolve_target,
    target_options,
    with_client,
)
from genmedia_fal.assets.commands.library import browse_options, run_browse

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_fal.assets.client import AssetsClient

_NOT_GIVEN: Any = object()


@click.group("collections")
def collections() -> None:
    """Group assets into manual or smart collections."""


def load_filters(value: str | None) -> Any:
    """``--filters``: inline JSON or ``@path/to/filters.json``; ``_NOT_GIVEN`` when absent."""
    import json
    from pathlib import Path

    from genmedia import errors
    from genmedia.limits import reject_constant

    if not value:
        return _NOT_GIVEN
    if value.startswith("@"):
        path = Path(value[1:]).expanduser().resolve()
        if not path.is_file():
            raise errors.UsageError(f"Filters file not found: {path}", {"path": str(path)})
        try:
            return json.loads(path.read_text(encoding="utf-8"), parse_constant=reject_constant)
        except (ValueError, OSError) as exc:
            raise errors.ValidationError(
                f"Failed to parse filters JSON at {path}", {"error": str(exc)}
            ) from None
    try:
        return json.loads(value, parse_constant=reject_constant)
    except ValueError as exc:
        raise errors.ValidationError("Invalid --filters JSON", {"error": str(exc)}) from None


def collection_fields(fn: Any) -> Any:
    for decorator in reversed(
        [
            option("description", help="Description."),
            option("icon", help="Icon."),
            option("color", help="Color."),
            option("cover_image_url", metavar="URL", help="fal-hosted cover image URL."),
            option(
                "filters",
                metavar="JSON|@FILE",
                help="Smart-collection filter DSL: inline JSON or @path/to/filters.json.",
            ),
            idempotency_option,
        ]
    ):
        fn = decorator(fn)
    return fn


@collections.command("list")
@option("limit", type=click.IntRange(1, 100), default=50, show_default=True, help="Page size.")
@option("offset", type=click.IntRange(min=0), default=0, show_default=True, help="Items to skip.")
@with_client
def list_collections(app: AppContext, client: AssetsClient, limit: int, offset: int) -> None:
    """List your collections."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import CollectionList

    query = {"limit": limit, "offset": offset}
    emit(app, call(client, "GET", "/collections", CollectionList, query=query), render.collections)


@collections.command("create")
@click.argument("name")
@collection_fields
@with_client
def create(app: AppContext, client: AssetsClient, name: str, **fields: Any) -> None:
    """Create a collection called NAME (smart when --filters is given)."""
    from genmedia.types import MISSING
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import CollectionBody, CollectionEnvelope

    filters = load_filters(fields["filters"])
    body = CollectionBody(
        name=name,
        description=fields["description"] or None,
        icon=fields["icon"] or None,
        color=fields["color"] or None,
        cover_image_url=fields["cover_image_url"] or None,
        filters=MISSING if filters is _NOT_GIVEN else filters,
    )
    doc = call(client, "POST", "/collections", CollectionEnvelope, body=body)
    emit(app, doc, render.collection)


@collections.command("update")
@click.argument("collection_id")
@option("name", help="New name.")
@collection_fields
@with_client
def update(
    app: AppContext, client: AssetsClient, collection_id: str, name: str | None, **fields: Any
) -> None:
    """Change a collection: only the flags given are sent ("" clears a text field)."""
    from genmedia.types import MISSING
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import CollectionBody, CollectionEnvelope

    filters = load_filters(fields["filters"])
    body = CollectionBody(
        name=name or None,
        description=fields["description"],
        icon=fields["icon"],
        color=fields["color"],
        cover_image_url=fields["cover_image_url"],
        filters=MISSING if filters is _NOT_GIVEN else filters,
    )
    path = f"/collections/{seg(collection_id)}"
    emit(app, call(client, "PATCH", path, CollectionEnvelope, body=body), render.collection)


@collections.command("browse")
@click.argument("collection_id")
@browse_options(with_collection=False)
@with_client
def browse(app: AppContext, client: AssetsClient, collection_id: str, **params: Any) -> None:
    """Browse (and search) the assets of a collection; same flags as `assets browse`."""
    from genmedia_fal.assets.client import seg

    path = f"/collections/{seg(collection_id)}/assets"
    run_browse(app, client, path, params, collection_id=collection_id)


@collections.command("add")
@click.argument("collection_id")
@target_options
@idempotency_option
@with_client
def add(
    app: AppContext,
    client: AssetsClient,
    collection_id: str,
    request_id: str | None,
    vector_id: str | None,
) -> None:
    """Add an asset to a manual (or character) collection."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import Success, Target

    target = Target(**resolve_target(request_id, vector_id))
    path = f"/collections/{seg(collection_id)}/assets"
    emit(
        app, call(client, "POST", path, Success, body=target), render.message("success: {success}")
    )


@collections.command("remove")
@click.argument("collection_id")
@target_options
@idempotency_option
@with_client
def remove(
    app: AppContext,
    client: AssetsClient,
    collection_id: str,
    request_id: str | None,
    vector_id: str | None,
) -> None:
    """Remove an asset from a collection (the asset stays in the library)."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import RemovedOutput, Target

    target = resolve_target(request_id, vector_id)
    client.send("DELETE", f"/collections/{seg(collection_id)}/assets", Target(**target))
    doc = RemovedOutput(
        collection_id=collection_id,
        request_id=target.get("request_id"),
        vector_id=target.get("vector_id"),
    )
    emit(app, doc, render.message("Removed from collection {collection_id}"))
