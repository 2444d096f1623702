"""Route functions of the Assets API for assets and tags; each is
``(assets, body, request, id) -> Response``.

Called by :func:`genmedia_sandbox.assets_api.handle` with the state lock held; the
collection and character routes are in :mod:`.assets_collections`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .assets import MEDIA_TYPES, Assets, _err, _now

Body = Any


def _str(body: Body, key: str, lo: int, hi: int) -> str | None:
    value = body.get(key) if isinstance(body, dict) else None
    if isinstance(value, str) and lo <= len(value) <= hi:
        return value
    return None


def _no_content() -> Response:
    return Response(b"", 204)


# ------------------------------------------------------------------------ assets


def browse(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    return a.browse(request, None)


def asset_get(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    asset = a.find(str(ident))
    if asset is None:
        return _err(404, f"Asset not found: {ident}")
    return JSONResponse({"asset": a.view(asset)})


def asset_tags(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    asset = a.find(str(ident))
    return JSONResponse({"tags": a.view(asset)["tags"] if asset else []})


def upload(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    body = body if isinstance(body, dict) else {}
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _err(422, "url must be a fal-hosted http(s) URL")
    kind = body.get("type")
    if kind not in MEDIA_TYPES:
        return _err(422, f"type must be one of {', '.join(MEDIA_TYPES)}")
    tag_ids = body.get("tag_ids") or []
    missing = [t for t in tag_ids if t not in a.state.tags]
    if missing:
        return _err(404, f"Tag not found: {missing[0]}")
    coll_id = body.get("collection_id")
    if coll_id and coll_id not in a.state.collections:
        return _err(404, f"Collection not found: {coll_id}")
    stored = _stored_for(a, url)
    asset = a.new_asset(
        url, kind, source="upload", prompt=body.get("prompt"),
        content_type=stored.content_type if stored else None,
    )  # fmt: skip
    if kind == "image" and stored is not None:
        asset["width"], asset["height"] = _image_size(stored)
    asset["tags"] = list(dict.fromkeys(tag_ids))
    asset["is_favorited"] = bool(body.get("favorite"))
    if coll_id:
        asset["collection_ids"].append(coll_id)
    return JSONResponse({"asset": a.view(asset)}, 201)


_OWN_FILE = re.compile(r"^https?://(?:127\.0\.0\.1|localhost)(?::\d+)?/cdn/files/([^/]+)/")


def _stored_for(a: Assets, url: str) -> Any:
    """A file of the store, by a URL of this emulator or of an earlier one (another port)."""
    cdn = a.sandbox.urls["cdn"] + "/files/"
    if url.startswith(cdn):
        return a.sandbox.storage.get(url[len(cdn) :].split("/", 1)[0])
    found = _OWN_FILE.match(url)
    return a.sandbox.storage.get(found[1]) if found else None


def _image_size(stored: Any) -> tuple[int | None, int | None]:
    head = b"".join(stored.iter_range(0, min(stored.size, 64 * 1024) - 1))
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    i = 2
    while head[:2] == b"\xff\xd8" and i + 9 < len(head):
        marker, length = head[i + 1], int.from_bytes(head[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(head[i + 7 : i + 9], "big"), int.from_bytes(
                head[i + 5 : i + 7], "big"
            )
        i += 2 + length
    return None, None


def _set_fav(a: Assets, body: Body, value: bool) -> Response:
    asset = a.target(body)
    if isinstance(asset, Response):
        return asset
    asset["is_favorited"] = value
    return JSONResponse({"is_favorited": value})


def fav(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    return _set_fav(a, body, True)


def unfav(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    return _set_fav(a, body, False)


# -------------------------------------------------------------------------- tags


def tags_list(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    return JSONResponse({"tags": sorted(a.state.tags.values(), key=lambda t: t["name"])})


def tags_create(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    name = _str(body, "name", 1, 50)
    if name is None:
        return _err(422, "name must be a string of 1-50 characters")
    if any(t["name"] == name for t in a.state.tags.values()):
        return _err(409, f"Tag already exists: {name}")
    tag = {"id": str(uuid.uuid4()), "name": name, "created_at": _now()}
    a.state.tags[tag["id"]] = tag
    return JSONResponse({"tag": tag}, 201)


def tags_update(a: Assets, body: Body, request: Request, tag_id: str | None) -> Response:
    tag = a.state.tags.get(str(tag_id))
    if tag is None:
        return _err(404, f"Tag not found: {tag_id}")
    if isinstance(body, dict) and "name" in body:
        name = _str(body, "name", 1, 50)
        if name is None:
            return _err(422, "name must be a string of 1-50 characters")
        tag["name"] = name
    return JSONResponse({"tag": tag})


def tags_delete(a: Assets, body: Body, request: Request, tag_id: str | None) -> Response:
    if a.state.tags.pop(str(tag_id), None) is None:
        return _err(404, f"Tag not found: {tag_id}")
    for asset in a.state.assets.values():
        if tag_id in asset["tags"]:
            asset["tags"].remove(tag_id)
    return _no_content()


def tags_set(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    tag_ids = body.get("tag_ids") if isinstance(body, dict) else None
    if not isinstance(tag_ids, list):
        return _err(422, "tag_ids (a list) is required")
    missing = [t for t in tag_ids if t not in a.state.tags]
    if missing:
        return _err(404, f"Tag not found: {missing[0]}")
    asset = a.target(body)
    if isinstance(asset, Response):
        return asset
    asset["tags"] = list(dict.fromkeys(tag_ids))
    return JSONResponse({"tags": a.view(asset)["tags"]})


def _tag_target(a: Assets, body: Body, tag_id: str | None) -> tuple[Any, Response | None]:
    if str(tag_id) not in a.state.tags:
        return None, _err(404, f"Tag not found: {tag_id}")
    asset = a.target(body)
    if isinstance(asset, Response):
        return None, asset
    return asset, None


def tags_assign(a: Assets, body: Body, request: Request, tag_id: str | None) -> Response:
    asset, error = _tag_target(a, body, tag_id)
    if error is not None:
        return error
    if tag_id not in asset["tags"]:
        asset["tags"].append(tag_id)
    return JSONResponse({"success": True})


def tags_unassign(a: Assets, body: Body, request: Request, tag_id: str | None) -> Response:
    asset, error = _tag_target(a, body, tag_id)
    if error is not None:
        return error
    if tag_id in asset["tags"]:
        asset["tags"].remove(tag_id)
    return _no_content()
