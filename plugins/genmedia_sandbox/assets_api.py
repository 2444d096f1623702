"""The Assets API's entry point: route table, the store transaction, ``Idempotency-Key``.

Route functions live in :mod:`.assets_routes` (assets, tags) and
:mod:`.assets_collections` (collections, characters); the library model in :mod:`.assets`.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from . import assets_collections, assets_routes
from .assets import Assets, _err
from .responses import read_json

if TYPE_CHECKING:
    from .state import Sandbox

_ID = r"(?P<id>[^/]+)"
_ROUTE_TABLE = [
    ("GET", "", "browse"),
    ("POST", "/uploads", "upload"),
    ("POST", "/favorite", "fav"),
    ("POST", "/unfavorite", "unfav"),
    ("GET", "/tags", "tags_list"),
    ("POST", "/tags", "tags_create"),
    ("PUT", "/tags", "tags_set"),
    ("PATCH", f"/tags/{_ID}", "tags_update"),
    ("DELETE", f"/tags/{_ID}", "tags_delete"),
    ("POST", f"/tags/{_ID}/assign", "tags_assign"),
    ("DELETE", f"/tags/{_ID}/assign", "tags_unassign"),
    ("GET", "/collections", "coll_list"),
    ("POST", "/collections", "coll_create"),
    ("GET", f"/collections/{_ID}", "coll_get"),
    ("PATCH", f"/collections/{_ID}", "coll_update"),
    ("DELETE", f"/collections/{_ID}", "coll_delete"),
    ("POST", f"/collections/{_ID}/favorite", "coll_fav"),
    ("POST", f"/collections/{_ID}/unfavorite", "coll_unfav"),
    ("GET", f"/collections/{_ID}/assets", "coll_browse"),
    ("POST", f"/collections/{_ID}/assets", "coll_add"),
    ("DELETE", f"/collections/{_ID}/assets", "coll_remove"),
    ("GET", "/characters", "char_list"),
    ("POST", "/characters", "char_create"),
    ("GET", f"/characters/{_ID}", "char_get"),
    ("PATCH", f"/characters/{_ID}", "char_update"),
    ("DELETE", f"/characters/{_ID}", "char_delete"),
    ("POST", f"/characters/{_ID}/favorite", "char_fav"),
    ("POST", f"/characters/{_ID}/unfavorite", "char_unfav"),
    ("GET", f"/{_ID}/tags", "asset_tags"),
    ("GET", f"/{_ID}", "asset_get"),
]
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile("^" + pattern + "/?$"), name) for method, pattern, name in _ROUTE_TABLE
]


async def handle(sandbox: Sandbox, sub: str, request: Request) -> Response:
    found = next(
        ((p.match(sub), n) for m, p, n in ROUTES if m == request.method and p.match(sub)), None
    )
    if found is None:
        return _err(404, f"Not found: {request.method} /v1/assets{sub}")
    match, name = found
    body, error = await read_json(request)
    if error is not None:
        return _err(400, f"Malformed JSON body: {error}")
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        await sandbox.queue.find(body["request_id"])  # a job of another process: load it
    with sandbox.assets.lock, sandbox.store.transaction() as db:
        idempotency = sandbox.assets.load(sandbox.store.get_doc(db, "assets"))
        response = _handle_locked(sandbox, sub, request, body, match, name, idempotency)
        if request.method != "GET":
            sandbox.store.put_doc(db, "assets", sandbox.assets.dump(idempotency))
    return response


def _handle_locked(
    sandbox: Sandbox,
    sub: str,
    request: Request,
    body: Any,
    match: Any,
    name: str,
    idempotency: dict[str, Any],
) -> Response:
    key = request.headers.get("idempotency-key")
    mutating = request.method in ("POST", "PUT", "PATCH", "DELETE")
    if key and mutating:
        raw = request.scope.get("sandbox.body", b"")
        fingerprint = hashlib.sha256(
            request.method.encode() + sub.encode() + b"\0" + raw
        ).hexdigest()
        previous = idempotency.get(key)
        if previous is not None:
            if previous[0] != fingerprint:
                return _err(409, "Idempotency-Key was already used with a different request")
            _, status, content, ctype = previous
            headers = {"idempotent-replayed": "true"}
            return Response(content.encode(), status, media_type=ctype, headers=headers)
    helper = Assets(sandbox)
    route = getattr(assets_routes, name, None) or getattr(assets_collections, name)
    response: Response = route(helper, body, request, match.groupdict().get("id"))
    if key and mutating and response.status_code < 500:
        idempotency[key] = [
            fingerprint,
            response.status_code,
            bytes(response.body).decode(),
            response.media_type,
        ]
    return response
