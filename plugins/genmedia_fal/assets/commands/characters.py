"""``assets characters list|create|update``; get, delete, favorite and unfavorite come from
:mod:`.resources`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from genmedia_fal.assets.commands.common import (
    ListValue,
    call,
    emit,
    flatten,
    idempotency_option,
    option,
    with_client,
)

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_fal.assets.client import AssetsClient

F = TypeVar("F", bound=Callable[..., Any])

MAX_REFERENCES = 20
REFERENCE_HELP = (
    "Reference image (1-20): a request_id or vector_id of existing fal media, or a URL "
    "for external images."
)


def reference_option(help: str) -> Callable[[F], F]:
    """``--reference_image`` (also ``--reference-image`` and upstream's later name
    ``--reference_image_url``): repeatable and comma-separated."""
    return click.option(
        "--reference_image",
        "--reference-image",
        "--reference_image_url",
        "--reference-image-url",
        "reference_image",
        type=ListValue(),
        multiple=True,
        help=f"{help} Repeat the flag or pass comma-separated values.",
    )


@click.group("characters")
def characters() -> None:
    """Reusable characters: a description plus reference images, @mentionable in search."""


def _references(values: tuple[list[str], ...], *, required: bool) -> list[str] | None:
    from genmedia import errors

    refs = flatten(values)
    if not refs and not required:
        return None
    if not refs or len(refs) > MAX_REFERENCES:
        raise errors.UsageError(
            "At least one --reference_image is required (max 20). Pass a fal-hosted URL, "
            "request_id, or vector_id.",
            {"count": len(refs), "max": MAX_REFERENCES},
        )
    return refs


@characters.command("list")
@option("limit", type=click.IntRange(1, 100), help="Page size (API default 50).")
@option("offset", type=click.IntRange(min=0), help="Items to skip.")
@with_client
def list_characters(
    app: AppContext, client: AssetsClient, limit: int | None, offset: int | None
) -> None:
    """List your characters."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import CharacterList

    query = {"limit": limit, "offset": offset}
    emit(app, call(client, "GET", "/characters", CharacterList, query=query), render.characters)


@characters.command("create")
@click.argument("name")
@option("description", required=True, help="Text description for semantic matching (required).")
@option("identifier", help="@mention handle (max 64 characters).")
@reference_option(REFERENCE_HELP)
@option("cover_image_url", metavar="URL", help="fal-hosted cover image URL.")
@idempotency_option
@with_client
def create(
    app: AppContext,
    client: AssetsClient,
    name: str,
    description: str,
    identifier: str | None,
    reference_image: tuple[list[str], ...],
    cover_image_url: str | None,
) -> None:
    """Create a character called NAME from 1-20 reference images."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.models import CharacterBody, CharacterEnvelope

    body = CharacterBody(
        name=name,
        description=description,
        identifier=identifier or None,
        reference_images=_references(reference_image, required=True),
        cover_image_url=cover_image_url or None,
    )
    doc = call(client, "POST", "/characters", CharacterEnvelope, body=body)
    emit(app, doc, render.character)


@characters.command("update")
@click.argument("character_id")
@option("name", help="New name.")
@option("description", help="New description.")
@reference_option("Replacement reference images (1-20; replaces all).")
@option("cover_image_url", metavar="URL", help="New fal-hosted cover image URL.")
@idempotency_option
@with_client
def update(
    app: AppContext,
    client: AssetsClient,
    character_id: str,
    name: str | None,
    description: str | None,
    reference_image: tuple[list[str], ...],
    cover_image_url: str | None,
) -> None:
    """Change a character: only the flags given are sent."""
    from genmedia_fal.assets import render
    from genmedia_fal.assets.client import seg
    from genmedia_fal.assets.models import CharacterBody, CharacterEnvelope

    body = CharacterBody(
        name=name or None,
        description=description or None,
        reference_images=_references(reference_image, required=False),
        cover_image_url=cover_image_url,
    )
    path = f"/characters/{seg(character_id)}"
    emit(app, call(client, "PATCH", path, CharacterEnvelope, body=body), render.character)
