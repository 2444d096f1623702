"""Route functions of the Assets API for collections and characters; each is
``(assets, body, request, id) -> Response``.

Called by :func:`genmedia_sandbox.assets_api.handle` with the state lock held.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .assets import _COLL_FIELDS, Assets, _err, _now, _xid
from .assets_routes import Body, _no_content, _str

# ------------------------------------------------------------ collections/characters


def _new_collection(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    now = _now()
    coll: dict[str, Any] = {
        "id": _xid(),
        "type": kind,
        "name": body["name"],
        **{k: body.get(k) for k in _COLL_FIELDS},
        "character_identifier": body.get("identifier") if kind == "character" else None,
        "parent_collection_id": body.get("parent_collection_id") if kind != "character" else None,
        "is_favorited": False,
        "created_at": now,
        "updated_at": now,
    }
    if kind == "smart":
        coll["filters"] = body.get("filters")
    if kind == "character":
        coll["reference_images"] = list(body["reference_images"])
    return coll


def _get_coll(a: Assets, ident: str | None, character: bool) -> dict[str, Any] | Response:
    coll = a.state.collections.get(str(ident))
    if coll is None or (coll["type"] == "character") != character:
        return _err(404, f"{'Character' if character else 'Collection'} not found: {ident}")
    return coll


def _list(a: Assets, request: Request, character: bool, key: str) -> Response:
    params = request.query_params
    try:
        limit = int(params.get("limit") or 50)
        offset = int(params.get("offset") or 0)
    except ValueError:
        return _err(400, "limit and offset must be integers")
    if not 1 <= limit <= 100 or offset < 0:
        return _err(400, "limit must be 1-100 and offset >= 0")
    items = [c for c in a.state.collections.values() if (c["type"] == "character") == character]
    items.sort(key=lambda c: c["created_at"], reverse=True)
    return JSONResponse({key: [a.collection_view(c) for c in items[offset : offset + limit]]})


def coll_list(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    return _list(a, request, False, "collections")


def char_list(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    return _list(a, request, True, "characters")


def coll_create(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    if _str(body, "name", 1, 255) is None:
        return _err(422, "name must be a string of 1-255 characters")
    parent = body.get("parent_collection_id")
    if parent and parent not in a.state.collections:
        return _err(404, f"Parent collection not found: {parent}")
    coll = _new_collection("smart" if body.get("filters") is not None else "manual", body)
    a.state.collections[coll["id"]] = coll
    return JSONResponse({"collection": a.collection_view(coll)}, 201)


def char_create(a: Assets, body: Body, request: Request, _id: str | None) -> Response:
    if _str(body, "name", 1, 255) is None or _str(body, "description", 1, 2000) is None:
        return _err(422, "name (1-255) and description (1-2000) are required")
    refs = body.get("reference_images")
    if not isinstance(refs, list) or not 1 <= len(refs) <= 20:
        return _err(422, "reference_images must list 1-20 images")
    ident = body.get("identifier")
    if ident is not None and (not isinstance(ident, str) or len(ident) > 64):
        return _err(422, "identifier must be at most 64 characters")
    coll = _new_collection("character", body)
    a.state.collections[coll["id"]] = coll
    return JSONResponse({"character": a.collection_view(coll)}, 201)


def _update(a: Assets, body: Body, ident: str | None, character: bool, key: str) -> Response:
    coll = _get_coll(a, ident, character)
    if isinstance(coll, Response):
        return coll
    body = body if isinstance(body, dict) else {}
    if "name" in body:
        if _str(body, "name", 1, 255) is None:
            return _err(422, "name must be a string of 1-255 characters")
        coll["name"] = body["name"]
    for field in _COLL_FIELDS:
        if field in body:
            coll[field] = body[field]
    if character and "reference_images" in body:
        refs = body["reference_images"]
        if not isinstance(refs, list) or not 1 <= len(refs) <= 20:
            return _err(422, "reference_images must list 1-20 images")
        coll["reference_images"] = list(refs)
    if not character and "filters" in body:
        coll["filters"] = body["filters"]
    coll["updated_at"] = _now()
    return JSONResponse({key: a.collection_view(coll)})


def coll_update(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _update(a, body, ident, False, "collection")


def char_update(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _update(a, body, ident, True, "character")


def _get(a: Assets, ident: str | None, character: bool, key: str) -> Response:
    coll = _get_coll(a, ident, character)
    if isinstance(coll, Response):
        return coll
    return JSONResponse({key: a.collection_view(coll)})


def coll_get(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _get(a, ident, False, "collection")


def char_get(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _get(a, ident, True, "character")


def _delete(a: Assets, ident: str | None, character: bool) -> Response:
    coll = _get_coll(a, ident, character)
    if isinstance(coll, Response):
        return coll
    del a.state.collections[coll["id"]]
    for asset in a.state.assets.values():
        if coll["id"] in asset["collection_ids"]:
            asset["collection_ids"].remove(coll["id"])
    return _no_content()


def coll_delete(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _delete(a, ident, False)


def char_delete(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _delete(a, ident, True)


def _fav(a: Assets, ident: str | None, character: bool, key: str, value: bool) -> Response:
    coll = _get_coll(a, ident, character)
    if isinstance(coll, Response):
        return coll
    coll["is_favorited"] = value
    return JSONResponse({key: a.collection_view(coll)})


def coll_fav(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _fav(a, ident, False, "collection", True)


def coll_unfav(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _fav(a, ident, False, "collection", False)


def char_fav(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _fav(a, ident, True, "character", True)


def char_unfav(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    return _fav(a, ident, True, "character", False)


def coll_browse(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    coll = a.state.collections.get(str(ident))
    if coll is None:
        return _err(404, f"Collection not found: {ident}")
    return a.browse(request, coll["id"])


def _membership(a: Assets, body: Body, ident: str | None) -> tuple[Any, Response | None]:
    coll = a.state.collections.get(str(ident))
    if coll is None:
        return None, _err(404, f"Collection not found: {ident}")
    if coll["type"] == "smart":
        return None, _err(422, "Assets can only be added to manual or character collections")
    asset = a.target(body)
    if isinstance(asset, Response):
        return None, asset
    return (coll, asset), None


def coll_add(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    pair, error = _membership(a, body, ident)
    if error is not None:
        return error
    coll, asset = pair
    if coll["id"] not in asset["collection_ids"]:
        asset["collection_ids"].append(coll["id"])
    return JSONResponse({"success": True})


def coll_remove(a: Assets, body: Body, request: Request, ident: str | None) -> Response:
    pair, error = _membership(a, body, ident)
    if error is not None:
        return error
    coll, asset = pair
    if coll["id"] in asset["collection_ids"]:
        asset["collection_ids"].remove(coll["id"])
    return _no_content()
