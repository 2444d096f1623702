"""``assets tags list|create|update|for-asset|assign|unassign|set``; delete comes from
:mod:`.resources`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from genmedia_fal.assets.commands.common import (
    call,
    emit,
    flatten,
    idempotency_option,
    list_option,
    option,
    resolve_target,
    target_options,
    with_client,
)

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_fal.assets.client import AssetsClient


@click.group("tags")
def tags() -> None:
    """Create tags and put them on assets."""


@tags.command("list")
@with_client
def list_tags(app: AppContext, client: AssetsClient) -> None:
    """List your tags."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import TagList

    emit(app, call(client, "GET", "/tags", TagList), render.tags)


@tags.command("create")
@click.argument("name")
@idempotency_option
@with_client
def create(app: AppContext, client: AssetsClient, name: str) -> None:
    """Create a tag called NAME (1-50 characters)."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import TagBody, TagEnvelope

    emit(app, call(client, "POST", "/tags", TagEnvelope, body=TagBody(name=name)), render.tag)


@tags.command("update")
@click.argument("tag_id")
@option("name", help="New name (1-50 characters).")
@idempotency_option
@with_client
def update(app: AppContext, client: AssetsClient, tag_id: str, name: str | None) -> None:
    """Rename the tag TAG_ID."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import TagBody, TagEnvelope

    body = TagBody(name=name or None)
    emit(app, call(client, "PATCH", f"/tags/{seg(tag_id)}", TagEnvelope, body=body), render.tag)


@tags.command("for-asset")
@click.argument("vector_id")
@with_client
def for_asset(app: AppContext, client: AssetsClient, vector_id: str) -> None:
    """List the tags on the asset VECTOR_ID."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import TagList

    emit(app, call(client, "GET", f"/{seg(vector_id)}/tags", TagList), render.tags)


@tags.command("assign")
@click.argument("tag_id")
@target_options
@idempotency_option
@with_client
def assign(
    app: AppContext,
    client: AssetsClient,
    tag_id: str,
    request_id: str | None,
    vector_id: str | None,
) -> None:
    """Put the tag TAG_ID on an asset."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import Success, Target

    target = Target(**resolve_target(request_id, vector_id))
    doc = call(client, "POST", f"/tags/{seg(tag_id)}/assign", Success, body=target)
    emit(app, doc, render.message("success: {success}"))


@tags.command("unassign")
@click.argument("tag_id")
@target_options
@idempotency_option
@with_client
def unassign(
    app: AppContext,
    client: AssetsClient,
    tag_id: str,
    request_id: str | None,
    vector_id: str | None,
) -> None:
    """Take the tag TAG_ID off an asset."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import Target, UnassignedOutput

    target = resolve_target(request_id, vector_id)
    client.send("DELETE", f"/tags/{seg(tag_id)}/assign", Target(**target))
    doc = UnassignedOutput(
        tag_id=tag_id, request_id=target.get("request_id"), vector_id=target.get("vector_id")
    )
    emit(app, doc, render.message("Unassigned tag {tag_id}"))


@tags.command("set")
@target_options
@list_option("tag_id", "Tag ids (the full new set; none clears all tags).")
@idempotency_option
@with_client
def set_tags(
    app: AppContext,
    client: AssetsClient,
    request_id: str | None,
    vector_id: str | None,
    tag_id: tuple[list[str], ...],
) -> None:
    """Replace all the tags of an asset."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import TagList, TargetTags

    body = TargetTags(**resolve_target(request_id, vector_id), tag_ids=flatten(tag_id))
    emit(app, call(client, "PUT", "/tags", TagList, body=body), render.tags)
