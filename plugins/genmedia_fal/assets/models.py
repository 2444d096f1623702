"""The Assets API's objects and request bodies, as attrs classes.

Response objects (:class:`Asset`, :class:`Tag`, :class:`Collection`, :class:`Character`,
:class:`BrowsePage` and the ``{"tag": …}``-style envelopes) derive from :class:`Wire`, and
the plugin registers one structure and one unstructure hook for ``Wire`` subclasses on
genmedia's single cattrs converter (:mod:`genmedia.serialization`). Those hooks implement
the wire rules:

- **Unknown keys are kept.** A key fal adds later lands in ``extra`` and is printed again
  after the known ones, so "the API response printed unchanged" (upstream's contract for
  get/create/update/list) stays true when the API grows. Known keys are type-checked.
- ``null`` is printed as ``null`` (every Assets field is always present on the wire), and a
  key the response did not carry (:data:`genmedia.types.MISSING`) is not printed at all.
- Numbers keep their JSON type (``1024`` stays an int); strings, booleans and lists are
  checked, not coerced: a malformed response is a :class:`genmedia.errors.RemoteError`.

Request bodies are plain attrs classes unstructured by the converter's default rules
(``None`` → key omitted), which is how upstream builds its optional keys.

This module imports cattrs (through :mod:`genmedia.serialization`); only command callbacks
import it, never ``plugin.py``.
"""

from __future__ import annotations

import functools
import types as pytypes
import typing
from typing import Any, ClassVar

import attrs

from genmedia.types import MISSING

MEDIA_TYPES = ("image", "video", "audio", "3d")

#: attrs metadata flag: a JSON number (int or float), passed through untouched.
NUMBER = {"number": True}


@attrs.define(kw_only=True)
class Wire:
    """Base of every response object: known fields plus ``extra`` (keys fal added)."""

    extra: dict[str, Any] = attrs.field(factory=dict, metadata={"json": False})


# --------------------------------------------------------------------------- objects


@attrs.define(kw_only=True)
class Tag(Wire):
    id: str
    name: str = MISSING
    created_at: str | None = MISSING


@attrs.define(kw_only=True)
class Asset(Wire):
    asset_id: str | None = MISSING
    vector_id: str
    request_id: str | None = MISSING
    url: str | None = MISSING
    type: str = MISSING
    title: str | None = MISSING
    endpoint: str | None = MISSING
    created_at: str | None = MISSING
    source: str | None = MISSING
    prompt: str | None = MISSING
    width: Any = attrs.field(default=MISSING, metadata=NUMBER)
    height: Any = attrs.field(default=MISSING, metadata=NUMBER)
    content_type: str | None = MISSING
    is_favorited: bool = MISSING
    collection_ids: list[str] = MISSING
    tags: list[Tag] = MISSING
    similarity: Any = attrs.field(default=MISSING, metadata=NUMBER)


@attrs.define(kw_only=True)
class Collection(Wire):
    id: str
    type: str = MISSING
    name: str = MISSING
    description: str | None = MISSING
    icon: str | None = MISSING
    color: str | None = MISSING
    cover_image_url: str | None = MISSING
    character_identifier: str | None = MISSING
    parent_collection_id: str | None = MISSING
    is_favorited: bool = MISSING
    #: the smart-collection "filter DSL": any JSON, passed through.
    filters: Any = attrs.field(default=MISSING, metadata={"any": True})
    asset_count: Any = attrs.field(default=MISSING, metadata=NUMBER)
    created_at: str | None = MISSING
    updated_at: str | None = MISSING


@attrs.define(kw_only=True)
class Character(Wire):
    id: str
    type: str = MISSING
    name: str = MISSING
    description: str | None = MISSING
    icon: str | None = MISSING
    color: str | None = MISSING
    cover_image_url: str | None = MISSING
    character_identifier: str | None = MISSING
    parent_collection_id: str | None = MISSING
    is_favorited: bool = MISSING
    asset_count: Any = attrs.field(default=MISSING, metadata=NUMBER)
    created_at: str | None = MISSING
    updated_at: str | None = MISSING
    reference_images: list[str] = MISSING


@attrs.define(kw_only=True)
class BrowsePage(Wire):
    assets: list[Asset]
    next_cursor: str | None = None
    has_more: bool = False
    total_count: Any = attrs.field(default=MISSING, metadata=NUMBER)
    scope_truncated: bool = MISSING


# --------------------------------------------------------------------------- envelopes


@attrs.define(kw_only=True)
class AssetEnvelope(Wire):
    asset: Asset


@attrs.define(kw_only=True)
class TagEnvelope(Wire):
    tag: Tag


@attrs.define(kw_only=True)
class TagList(Wire):
    tags: list[Tag]


@attrs.define(kw_only=True)
class CollectionEnvelope(Wire):
    collection: Collection


@attrs.define(kw_only=True)
class CollectionList(Wire):
    collections: list[Collection]


@attrs.define(kw_only=True)
class CharacterEnvelope(Wire):
    character: Character


@attrs.define(kw_only=True)
class CharacterList(Wire):
    characters: list[Character]


@attrs.define(kw_only=True)
class FavoriteState(Wire):
    is_favorited: bool


@attrs.define(kw_only=True)
class Success(Wire):
    success: bool


# --------------------------------------------------------------------------- outputs
# genmedia's own documents (upstream's shapes): None → key omitted.


@attrs.define(kw_only=True)
class BrowseOutput:
    """``assets browse`` / ``collections browse`` (fal-api.md (k))."""

    query: str | None = None
    collection_id: str | None = None
    section: str | None = None
    count: int
    has_more: bool
    #: printed only when truthy, as upstream does.
    next_cursor: str | None = None
    #: printed only when the API gave a number.
    total_count: Any = None
    #: with ``--all``: how many pages were fetched (not an upstream key).
    pages: int | None = None
    assets: list[Asset]


@attrs.define(kw_only=True)
class DeletedOutput:
    deleted: bool = True
    asset_id: str | None = None
    tag_id: str | None = None
    collection_id: str | None = None
    character_id: str | None = None


@attrs.define(kw_only=True)
class UnassignedOutput:
    unassigned: bool = True
    tag_id: str
    request_id: str | None = None
    vector_id: str | None = None


@attrs.define(kw_only=True)
class RemovedOutput:
    removed: bool = True
    collection_id: str
    request_id: str | None = None
    vector_id: str | None = None


# --------------------------------------------------------------------------- bodies


@attrs.define(kw_only=True)
class Target:
    """Exactly one of the two is set (checked by the command before it is built)."""

    request_id: str | None = None
    vector_id: str | None = None


@attrs.define(kw_only=True)
class TargetTags(Target):
    tag_ids: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class UploadBody:
    url: str
    type: str
    prompt: str | None = None
    collection_id: str | None = None
    favorite: bool = False
    tag_ids: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class AssetUpdateBody:
    prompt: str


@attrs.define(kw_only=True)
class TagBody:
    name: str | None = None


@attrs.define(kw_only=True)
class CollectionBody:
    """Create and update. ``filters`` is MISSING when not given (``null`` is a value)."""

    __genmedia_keep_none__: ClassVar[tuple[str, ...]] = ("filters",)

    name: str | None = None
    description: str | None = None
    icon: str | None = None
    color: str | None = None
    cover_image_url: str | None = None
    filters: Any = MISSING


@attrs.define(kw_only=True)
class CharacterBody:
    """Create (``name``, ``description``, ``reference_images`` required) and update."""

    name: str | None = None
    description: str | None = None
    identifier: str | None = None
    reference_images: list[str] | None = None
    cover_image_url: str | None = None


# --------------------------------------------------------------------------- hooks


class WireError(ValueError):
    """A response did not have the expected shape (becomes a RemoteError)."""


def structure(data: Any, cls: type[Any]) -> Any:
    """``genmedia.serialization.structure`` with this module's hooks installed."""
    from genmedia.serialization import structure as core_structure

    install_hooks()
    return core_structure(data, cls)


@functools.lru_cache(maxsize=1)
def install_hooks() -> None:
    """Teach genmedia's converter the :class:`Wire` rules (once per process)."""
    from genmedia.serialization import converter

    conv = converter()

    def is_wire(cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, Wire)

    def structure_wire(data: Any, cls: type[Any]) -> Any:
        if not isinstance(data, dict):
            raise WireError(f"{cls.__name__}: expected an object, got {_kind(data)}")
        hints = _hints(cls)
        kwargs: dict[str, Any] = {}
        known = set()
        for a in attrs.fields(cls):
            if a.name == "extra":
                continue
            known.add(a.name)
            if a.name not in data:
                if a.default is attrs.NOTHING:
                    raise WireError(f"{cls.__name__}: missing key {a.name!r}")
                continue
            kwargs[a.name] = _check(
                conv, data[a.name], hints[a.name], a, f"{cls.__name__}.{a.name}"
            )
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(extra=extra, **kwargs)

    def unstructure_wire(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in attrs.fields(type(obj)):
            if a.name == "extra":
                continue
            value = getattr(obj, a.name)
            if value is MISSING:
                continue
            out[a.name] = conv.unstructure(value)
        for key, value in obj.extra.items():
            out.setdefault(key, value)
        return out

    conv.register_structure_hook_func(is_wire, structure_wire)
    conv.register_unstructure_hook_func(is_wire, unstructure_wire)


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _check(conv: Any, value: Any, hint: Any, a: Any, where: str) -> Any:
    """Check ``value`` against the field's type; nested Wire objects are structured."""
    if a is not None and (a.metadata.get("any") or (hint is Any and not a.metadata.get("number"))):
        return value
    if a is not None and a.metadata.get("number"):
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return value
        raise WireError(f"{where}: expected a number or null, got {_kind(value)}")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, pytypes.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [t for t in args if t is not type(None)]
        return _check(conv, value, inner[0], None, where)
    if origin is list:
        if not isinstance(value, list):
            raise WireError(f"{where}: expected a list, got {_kind(value)}")
        return [_check(conv, v, args[0], None, f"{where}[{i}]") for i, v in enumerate(value)]
    if hint is str:
        if isinstance(value, str):
            return value
        raise WireError(f"{where}: expected a string, got {_kind(value)}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise WireError(f"{where}: expected a boolean, got {_kind(value)}")
    if isinstance(hint, type) and issubclass(hint, Wire):
        return conv.structure(value, hint)
    return value
