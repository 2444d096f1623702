"""``get`` / ``delete`` / ``favorite`` / ``unfavorite`` of every Assets resource, from one table.

The library, tags, collections and characters answer these verbs the same way; only
where the resource lives, what its id is called and what comes back differ. One
:class:`Resource` row says that, and :func:`commands_for` builds the click commands:

- ``get ID``: ``GET path/ID``; prints the API's envelope (``{"character": …}``).
- ``delete ID``: ``DELETE path/ID``; prints ``{"deleted": true, "<id_arg>": ID}``. Asks
  first on a terminal, needs ``--yes`` without one.
- ``favorite ID`` / ``unfavorite ID`` (``by_id``): ``POST path/ID/favorite``; prints the
  API's envelope.
- ``favorite`` / ``unfavorite`` (``by_target``, the library): ``POST path/favorite`` with
  exactly one of ``--vector_id`` / ``--request_id``; prints ``{"is_favorited": …}``.

Every command but ``get`` takes ``--idempotency_key``.

Imports click only; models and rendering are looked up by name inside the callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import click

from genmedia_fal.assets.commands.common import (
    call,
    confirm_delete,
    emit,
    idempotency_option,
    resolve_target,
    target_options,
    with_client,
    yes_option,
)

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_fal.assets.client import AssetsClient

FAVORITE_VERBS = ("favorite", "unfavorite")


@dataclass(frozen=True)
class Resource:
    """One kind of thing in the Assets API, as the four shared commands see it."""

    #: what one is called in prompts and messages: ``Delete character ID?``
    noun: str
    #: its place under ``/v1/assets`` ("" for the library itself)
    path: str
    #: the id argument of ``delete`` and ``favorite`` (also the key of delete's output)
    id_arg: str
    delete_help: str
    #: ``get``'s help; None: the resource has no ``get``
    get_help: str | None = None
    #: ``get``'s argument when it differs from :attr:`id_arg`
    get_arg: str | None = None
    #: :mod:`..models` class of the ``get`` / ``favorite`` (``by_id``) reply
    reply: str | None = None
    #: :mod:`..render` function that prints that reply on a terminal
    show: str | None = None
    #: ``by_id``: ``POST path/ID/favorite``; ``by_target``: ``POST path/favorite`` with
    #: ``--vector_id`` / ``--request_id``; None: no favorite commands
    favorite: Literal["by_id", "by_target"] | None = None


LIBRARY = Resource(
    noun="asset",
    path="",
    id_arg="asset_id",
    delete_help="Delete an asset from the library (asks first on a terminal; else needs --yes).",
    get_help="Show one asset by VECTOR_ID (an asset id works too).",
    get_arg="vector_id",
    reply="AssetEnvelope",
    show="asset",
    favorite="by_target",
)
TAGS = Resource(
    noun="tag",
    path="/tags",
    id_arg="tag_id",
    delete_help="Delete the tag TAG_ID (asks first on a terminal; else needs --yes).",
)
COLLECTIONS = Resource(
    noun="collection",
    path="/collections",
    id_arg="collection_id",
    delete_help="Delete a collection, not its assets (asks first on a terminal; else needs --yes).",
    get_help="Show one collection.",
    reply="CollectionEnvelope",
    show="collection",
    favorite="by_id",
)
CHARACTERS = Resource(
    noun="character",
    path="/characters",
    id_arg="character_id",
    delete_help="Delete a character (asks first on a terminal; else needs --yes).",
    get_help="Show one character.",
    reply="CharacterEnvelope",
    show="character",
    favorite="by_id",
)


def commands_for(resource: Resource) -> list[click.Command]:
    """The shared commands ``resource`` has, ready to add to its group."""
    made = [_delete(resource)]
    if resource.get_help is not None:
        made.append(_get(resource))
    if resource.favorite is not None:
        made += [_favorite(resource, verb) for verb in FAVORITE_VERBS]
    return made


def _models_and_render(resource: Resource) -> tuple[Any, Any]:
    from genmedia_fal.assets import models, render

    return getattr(models, str(resource.reply)), getattr(render, str(resource.show))


def _item_path(resource: Resource, ident: str) -> str:
    from genmedia_fal.assets.client import seg

    return f"{resource.path}/{seg(ident)}"


def _get(resource: Resource) -> click.Command:
    arg = resource.get_arg or resource.id_arg

    @click.command("get", help=resource.get_help)
    @click.argument(arg)
    @with_client
    def get(app: AppContext, client: AssetsClient, **params: str) -> None:
        reply, show = _models_and_render(resource)
        emit(app, call(client, "GET", _item_path(resource, params[arg]), reply), show)

    return get


def _delete(resource: Resource) -> click.Command:
    arg = resource.id_arg

    @click.command("delete", help=resource.delete_help)
    @click.argument(arg)
    @yes_option
    @idempotency_option
    @with_client
    def delete(app: AppContext, client: AssetsClient, yes: bool, **params: str) -> None:
        from genmedia_fal.assets import render
        from genmedia_fal.assets.models import DeletedOutput

        ident = params[arg]
        confirm_delete(app, f"{resource.noun} {ident}", yes)
        client.send("DELETE", _item_path(resource, ident))
        deleted: dict[str, Any] = {arg: ident}  # {"deleted": true, "<arg>": ident}
        pretty = render.message(f"Deleted {resource.noun} {{{arg}}}")
        emit(app, DeletedOutput(**deleted), pretty)

    return delete


def _favorite(resource: Resource, verb: str) -> click.Command:
    article = "an" if resource.noun[0] in "aeiou" else "a"
    what = f"{verb.capitalize()} {article} {resource.noun}"
    if resource.favorite == "by_target":
        return _favorite_target(resource, verb, what)
    arg = resource.id_arg

    @click.command(verb, help=f"{what}.")
    @click.argument(arg)
    @idempotency_option
    @with_client
    def favorite(app: AppContext, client: AssetsClient, **params: str) -> None:
        reply, show = _models_and_render(resource)
        path = f"{_item_path(resource, params[arg])}/{verb}"
        emit(app, call(client, "POST", path, reply), show)

    return favorite


def _favorite_target(resource: Resource, verb: str, what: str) -> click.Command:
    @click.command(verb, help=f"{what} (exactly one of --vector_id / --request_id).")
    @target_options
    @idempotency_option
    @with_client
    def favorite(
        app: AppContext, client: AssetsClient, request_id: str | None, vector_id: str | None
    ) -> None:
        from genmedia_fal.assets import render
        from genmedia_fal.assets.models import FavoriteState, Target

        target = Target(**resolve_target(request_id, vector_id))
        doc = call(client, "POST", f"{resource.path}/{verb}", FavoriteState, body=target)
        emit(app, doc, render.message("is_favorited: {is_favorited}"))

    return favorite
