"""``assets browse|upload|update``: the asset library itself; get, delete, favorite and
unfavorite come from :mod:`.resources`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from genmedia_fal.assets.commands.common import (
    MEDIA_TYPES,
    SECTIONS,
    SOURCES,
    TAG_MODES,
    call,
    emit,
    flatten,
    idempotency_option,
    list_option,
    option,
    with_client,
)

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_fal.assets.client import AssetsClient

#: Safety net for ``--all``: stop after this many pages even if the API says "more".
MAX_PAGES = 1000


def browse_options(*, with_collection: bool) -> Callable[[Any], Any]:
    """The query flags shared by ``assets browse`` and ``assets collections browse``."""

    def decorate(fn: Any) -> Any:
        decorators = [
            click.argument("query", required=False),
            option("search_image_url", metavar="URL", help="fal-hosted image URL to search by."),
            option("search_video_url", metavar="URL", help="fal-hosted video URL to search by."),
            list_option("media_type", "Filter by media type.", MEDIA_TYPES),
            list_option("source", "Filter by indexed source.", SOURCES),
            option(
                "section",
                type=click.Choice(SECTIONS),
                default="all-media",
                show_default=True,
                help="Library section to browse.",
            ),
        ]
        if with_collection:
            decorators.append(option("collection_id", metavar="ID", help="Scope to a collection."))
        decorators += [
            list_option("character_identifier", "Character @mention identifier filter."),
            list_option("tag_id", "Filter by tag id."),
            option(
                "tag_mode",
                type=click.Choice(TAG_MODES),
                default="any",
                show_default=True,
                help="Match any of the tags or all of them.",
            ),
            option(
                "limit",
                type=click.IntRange(min=1),
                default=20,
                show_default=True,
                help="Results per page.",
            ),
            option("cursor", metavar="CURSOR", help="Pagination cursor from a previous page."),
            click.option(
                "--all", "all_pages", is_flag=True, help="Follow next_cursor to the last page."
            ),
        ]
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return decorate


def run_browse(
    app: AppContext,
    client: AssetsClient,
    path: str,
    params: dict[str, Any],
    *,
    collection_id: str | None = None,
) -> None:
    """GET a browse page (or every page with ``--all``) and print upstream's envelope."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import BrowseOutput, BrowsePage

    query = params["query"].strip() if params.get("query") is not None else None
    q: dict[str, Any] = {
        "q": query,
        "search_image_url": params.get("search_image_url"),
        "search_video_url": params.get("search_video_url"),
        "media_type": flatten(params.get("media_type")),
        "source": flatten(params.get("source")),
        "section": params["section"],
        "collection_id": params.get("collection_id"),
        "character_identifier": flatten(params.get("character_identifier")),
        "tag_id": flatten(params.get("tag_id")),
        "tag_mode": params["tag_mode"],
        "limit": params["limit"],
        "cursor": params.get("cursor"),
    }
    pages: list[BrowsePage] = []
    seen: set[str] = set()
    while True:
        page = call(client, "GET", path, BrowsePage, query=q)
        pages.append(page)
        cursor = page.next_cursor
        if not (params.get("all_pages") and page.has_more and cursor) or cursor in seen:
            break
        if len(pages) >= MAX_PAGES:
            app.warn(f"--all stopped after {MAX_PAGES} pages")
            break
        seen.add(cursor)
        q["cursor"] = cursor
    last = pages[-1]
    assets = [a for p in pages for a in p.assets]
    total = last.total_count if isinstance(last.total_count, (int, float)) else None
    doc = BrowseOutput(
        query=(query or None) if collection_id is None else None,
        collection_id=collection_id,
        section=params["section"] if collection_id is None else None,
        count=len(assets),
        has_more=last.has_more,
        next_cursor=last.next_cursor or None,
        total_count=total,
        pages=len(pages) if params.get("all_pages") else None,
        assets=assets,
    )
    emit(app, doc, render.browse)


@click.command("browse")
@browse_options(with_collection=True)
@with_client
def browse(app: AppContext, client: AssetsClient, **params: Any) -> None:
    """Browse and semantically search the asset library.

    QUERY is free text for hybrid semantic search. Prints count, has_more, next_cursor
    and the assets; --all follows the cursor to the end.
    """
    run_browse(app, client, "", params)


@click.command("upload")
@click.argument("target", metavar="FILE_OR_URL")
@option("type", "asset_type", metavar="TYPE", help="image, video, audio or 3d (default: inferred).")
@option("prompt", help="Caption or description to index with the asset (max 2000 chars).")
@option("collection_id", metavar="ID", help="Add the asset to this manual collection.")
@click.option("--favorite", is_flag=True, help="Favorite the asset at once.")
@list_option("tag_id", "Tag ids to assign.")
@click.option("--provider", metavar="NAME", help="Storage provider for local files (default: fal).")
@idempotency_option
@with_client
def upload(app: AppContext, client: AssetsClient, **params: Any) -> None:
    """Bring external media (a local file or a non-fal URL) into the library.

    Local files and non-fal URLs go to storage first; fal-hosted URLs are used as they
    are. For media that came out of `genmedia run`, use its request_id with `favorite`,
    `collections add` or `characters create` instead.
    """
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import AssetEnvelope, UploadBody
    from genmedia_fal.assets.upload import prepare_upload

    url, kind = prepare_upload(
        client.fal, params["target"], params["asset_type"], params["provider"]
    )
    body = UploadBody(
        url=url,
        type=kind,
        prompt=params["prompt"] or None,
        collection_id=params["collection_id"] or None,
        favorite=bool(params["favorite"]),
        tag_ids=flatten(params["tag_id"]),
    )
    emit(app, call(client, "POST", "/uploads", AssetEnvelope, body=body), render.asset)


@click.command("update")
@click.argument("asset_id")
@option("prompt", required=True, help="New prompt or description (max 2000 chars).")
@idempotency_option
@with_client
def update(app: AppContext, client: AssetsClient, asset_id: str, prompt: str) -> None:
    """Update the saved prompt of an uploaded asset (PATCH /assets/ASSET_ID)."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import AssetEnvelope, AssetUpdateBody

    doc = call(
        client, "PATCH", f"/{seg(asset_id)}", AssetEnvelope, body=AssetUpdateBody(prompt=prompt)
    )
    emit(app, doc, render.asset)


COMMANDS = (browse, upload, update)
