"""Assets API (api.fal.ai/v1/assets): an in-memory asset library.

Every route genmedia uses (fal-api.md g.2) plus ``GET /assets/{id}`` by asset or
vector id. Targets are ``{asset_id|request_id|vector_id}`` (exactly one); a
``request_id`` of a completed sandbox job is "materialized" into an asset (its
first media file) the first time it is used. Browse is newest first, paginated
with the base64 page cursor. Mutations honour ``Idempotency-Key``: the same key
with the same method, path and body replays the first response (status and
body) and creates nothing; the same key with a different request is answered
``409 validation_error``.

The library lives in the store (one JSON document, read and written back inside one
``BEGIN IMMEDIATE`` transaction per request), so separate processes share it.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .platform import decode_cursor, encode_cursor, parse_limit
from .responses import platform_error

if TYPE_CHECKING:
    from .state import Sandbox

MEDIA_TYPES = ("image", "video", "audio", "3d")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _xid() -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    return "".join(secrets.choice(alphabet) for _ in range(20))


class AssetsState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.assets: dict[str, dict[str, Any]] = {}  # asset_id -> asset (tags as ids)
        self.tags: dict[str, dict[str, Any]] = {}
        self.collections: dict[str, dict[str, Any]] = {}  # characters too (type "character")

    def reset(self) -> None:
        with self.lock:
            self.assets.clear()
            self.tags.clear()
            self.collections.clear()

    def load(self, doc: Any) -> dict[str, Any]:
        doc = doc if isinstance(doc, dict) else {}
        self.assets = doc.get("assets") or {}
        self.tags = doc.get("tags") or {}
        self.collections = doc.get("collections") or {}
        idem: dict[str, Any] = doc.get("idempotency") or {}
        return idem

    def dump(self, idempotency: dict[str, Any]) -> dict[str, Any]:
        return {"assets": self.assets, "tags": self.tags, "collections": self.collections,
                "idempotency": idempotency}  # fmt: skip


def _err(status: int, message: str) -> Response:
    kind = {404: "not_found", 401: "authorization_error", 403: "authorization_error"}.get(
        status, "validation_error"
    )
    return platform_error(status, kind, message)


def _kind_of(content_type: str | None, url: str) -> str:
    ct = content_type or ""
    for prefix, kind in (
        ("image/", "image"),
        ("video/", "video"),
        ("audio/", "audio"),
        ("model/", "3d"),
    ):
        if ct.startswith(prefix):
            return kind
    ext = url.rsplit(".", 1)[-1].lower()
    return {
        "mp4": "video",
        "webm": "video",
        "mov": "video",
        "wav": "audio",
        "mp3": "audio",
        "glb": "3d",
    }.get(ext, "image")


class Assets:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.state = sandbox.assets

    # -- objects -----------------------------------------------------------------------
    def new_asset(self, url: str, kind: str, *, source: str, **extra: Any) -> dict[str, Any]:
        asset: dict[str, Any] = {
            "asset_id": _xid(),
            "vector_id": str(uuid.uuid4()),
            "request_id": extra.get("request_id"),
            "url": url,
            "type": kind,
            "title": extra.get("title") or url.rsplit("/", 1)[-1] or "asset",
            "endpoint": extra.get("endpoint"),
            "created_at": _now(),
            "source": source,
            "prompt": extra.get("prompt"),
            "width": extra.get("width"),
            "height": extra.get("height"),
            "content_type": extra.get("content_type"),
            "is_favorited": False,
            "collection_ids": [],
            "tags": [],
            "similarity": None,
        }
        self.state.assets[asset["asset_id"]] = asset
        return asset

    def view(self, asset: dict[str, Any]) -> dict[str, Any]:
        out = dict(asset)
        out["collection_ids"] = list(asset["collection_ids"])
        out["tags"] = [self.state.tags[t] for t in asset["tags"] if t in self.state.tags]
        return out

    def find(self, ident: str) -> dict[str, Any] | None:
        found = self.state.assets.get(ident)
        if found is None:
            found = next((a for a in self.state.assets.values() if a["vector_id"] == ident), None)
        return found

    def target(self, body: Any) -> dict[str, Any] | Response:
        body = body if isinstance(body, dict) else {}
        given = {k: body[k] for k in ("asset_id", "request_id", "vector_id") if body.get(k)}
        if len(given) != 1:
            return _err(422, "Provide exactly one of asset_id, request_id or vector_id")
        ((key, value),) = given.items()
        if key == "request_id":
            asset = next((a for a in self.state.assets.values() if a["request_id"] == value), None)
            return asset or self.materialize(str(value))
        return self.find(str(value)) or _err(404, f"Asset not found: {value}")

    def materialize(self, request_id: str) -> dict[str, Any] | Response:
        job = self.sandbox.queue.jobs.get(request_id)
        if job is None or job.status != "COMPLETED" or job.result_status != 200:
            return _err(404, f"No completed request {request_id} to save as an asset")
        ref = _first_media(job.result_body)
        if ref is None:
            return _err(422, f"Request {request_id} has no media output")
        return self.new_asset(
            ref["url"], _kind_of(ref.get("content_type"), ref["url"]), source="response",
            request_id=request_id, endpoint=job.endpoint_id, prompt=(job.input or {}).get("prompt"),
            width=ref.get("width"), height=ref.get("height"), content_type=ref.get("content_type"),
        )  # fmt: skip

    def collection_view(self, coll: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in coll.items() if not k.startswith("_")}
        out["asset_count"] = sum(
            1 for a in self.state.assets.values() if coll["id"] in a["collection_ids"]
        )
        if coll["type"] == "character":
            out.pop("filters", None)
        return out

    # -- browse ------------------------------------------------------------------------
    def browse(self, request: Request, collection_id: str | None) -> Response:
        params = request.query_params
        limit = parse_limit(params.get("limit"), 20)
        page = decode_cursor(params.get("cursor"))
        if limit is None or page is None:
            return _err(400, "Invalid limit or cursor")
        collection_id = collection_id or params.get("collection_id")
        if collection_id and collection_id not in self.state.collections:
            return _err(404, f"Collection not found: {collection_id}")
        words = (params.get("q") or "").lower().split()
        media = params.getlist("media_type")
        sources = params.getlist("source")
        section = params.get("section") or "all-media"
        tag_ids = params.getlist("tag_id")
        tag_mode = params.get("tag_mode") or "any"
        chars = [c.lstrip("@") for c in params.getlist("character_identifier")]
        char_ids = {
            c["id"]
            for c in self.state.collections.values()
            if c.get("character_identifier") in chars
        }
        out = []
        for asset in sorted(
            self.state.assets.values(), key=lambda a: a["created_at"], reverse=True
        ):
            hay = f"{asset['prompt'] or ''} {asset['title']} {asset['endpoint'] or ''}".lower()
            if words and not all(w in hay for w in words):
                continue
            if (media and asset["type"] not in media) or (
                sources and asset["source"] not in sources
            ):
                continue
            if section == "uploads" and asset["source"] != "upload":
                continue
            if section == "generated" and asset["source"] != "response":
                continue
            if section == "favorites" and not asset["is_favorited"]:
                continue
            if collection_id and collection_id not in asset["collection_ids"]:
                continue
            if chars and not char_ids & set(asset["collection_ids"]):
                continue
            if tag_ids:
                have = set(asset["tags"]) & set(tag_ids)
                if (tag_mode == "all" and have != set(tag_ids)) or not have:
                    continue
            out.append(asset)
        start = (page - 1) * limit
        more = start + limit < len(out)
        return JSONResponse(
            {
                "assets": [self.view(a) for a in out[start : start + limit]],
                "next_cursor": encode_cursor(page + 1) if more else None,
                "has_more": more,
                "total_count": len(out),
                "scope_truncated": False,
            }
        )


def _first_media(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        url = value.get("url")
        if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
            return value
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = _first_media(child)
        if found is not None:
            return found
    return None


_COLL_FIELDS = ("description", "icon", "color", "cover_image_url")
