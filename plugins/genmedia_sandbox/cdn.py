"""Storage: rest.fal.ai (token + initiate flows) and v3.fal.media (uploads + file hosting).

REST role (key auth):
  ``POST /storage/auth/token?storage_type=fal-cdn-v3`` → CDN token (Python client)
  ``POST /storage/upload/initiate`` → ``{upload_url, file_url}`` (JS client; any storage_type)
  ``POST /storage/upload/initiate-multipart`` → ``{upload_url, file_url}``

CDN role:
  ``POST /files/upload`` (token auth) → ``{access_url}``
  ``POST /files/upload/multipart`` → ``{access_url, uploadId}``;
  ``PUT {access_url}/multipart/{uploadId}/{n}`` → ETag header; ``POST …/complete``
  ``PUT /upload/{key}?token=…`` pre-signed simple upload (no auth)
  ``PUT /upload/{key}/multipart/{n}?token=…`` → ``{"partNumber", "etag"}`` + ETag header;
  ``POST /upload/{key}/multipart/complete?token=…``
  ``GET|HEAD /files/{key}/{name}`` → the file (Content-Length, ETag, Accept-Ranges,
  single-range ``Range`` → 206, ``If-Range``); no auth.

Request bodies are streamed to files in the server's temp dir, never held in memory.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .responses import fal_error, key_error, read_json
from .storage import PendingUpload, Storage

if TYPE_CHECKING:
    from .state import Sandbox

_CDN_MULTI = re.compile(
    r"^/files/(?P<key>[^/]+)/(?P<name>.*)/multipart/(?P<upload>[^/]+)/(?P<part>\d+|complete)/?$"
)
_PRESIGNED = re.compile(r"^/upload/(?P<key>[^/]+)(?:/multipart/(?P<part>\d+|complete))?/?$")
_FILE = re.compile(r"^/files/(?P<key>[^/]+)(?:/(?P<name>.*))?$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


async def handle(sandbox: Sandbox, role: str, sub: str, request: Request) -> Response:
    if role == "rest":
        if sub.rstrip("/") == "/.well-known/jwks.json" and request.method == "GET":
            from .webhooks import jwks

            return JSONResponse(jwks(sandbox.store))  # fal's webhook keys: no auth
        refused = key_error(sandbox, request)
        if refused is not None:
            return refused
        return await _rest(sandbox, sub, request)
    return await _cdn(sandbox, sub, request)


def token_error(sandbox: Sandbox, request: Request) -> Response | None:
    """CDN uploads need a token from ``/storage/auth/token`` (``Bearer``), still valid.

    401 when the header is missing, is not ``Bearer`` (a fal key is refused here) or the
    token has expired; 403 for a token the emulator never issued.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return fal_error(
            401, "Missing CDN token (use 'Authorization: Bearer <token>' from /storage/auth/token)"
        )
    expires = sandbox.store.token_expiry(token)
    if expires is None:
        return fal_error(403, "Invalid CDN token")
    if time.time() >= expires:
        return fal_error(401, "CDN token expired")
    return None


# ---------------------------------------------------------------------------- REST


async def _rest(sandbox: Sandbox, sub: str, request: Request) -> Response:
    path = sub.rstrip("/")
    if request.method != "POST":
        return fal_error(405, "Method Not Allowed")
    cdn = sandbox.urls["cdn"]
    if path == "/storage/auth/token":
        await read_json(request)
        now = time.time()
        token = "sandbox-cdn-" + secrets.token_hex(16)
        sandbox.store.add_token(token, now + sandbox.token_ttl)
        expires = datetime.fromtimestamp(int(now + sandbox.token_ttl), UTC)
        return JSONResponse(
            {
                "token": token,
                "token_type": "Bearer",
                "base_url": cdn,
                "expires_at": expires.isoformat(),
            }
        )
    if path in ("/storage/upload/initiate", "/storage/upload/initiate-multipart"):
        body, error = await read_json(request)
        if error is not None or not isinstance(body, dict):
            return fal_error(422, [{"loc": ["body"], "msg": "Input should be a valid dictionary",
                                    "type": "dict_type", "input": body}])  # fmt: skip
        content_type = str(body.get("content_type") or "application/octet-stream")
        name = str(body.get("file_name") or "upload.bin")
        token = secrets.token_hex(8)
        pending = PendingUpload(Storage.new_key(), name, content_type, token=token)
        sandbox.storage.pending[pending.key] = pending
        suffix = "/multipart" if path.endswith("multipart") else ""
        return JSONResponse(
            {
                "upload_url": f"{cdn}/upload/{pending.key}{suffix}?token={token}",
                "file_url": f"{cdn}/files/{pending.key}/{_quote(name)}",
            }
        )
    return fal_error(404, f"Not found: {sub}")


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


# ----------------------------------------------------------------------------- CDN


async def _write_stream(
    request: Request, sandbox: Sandbox, key: str, suffix: str
) -> tuple[Any, str]:
    path, fh = sandbox.storage.open_writer(key, suffix)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        async for chunk in request.stream():
            fh.write(chunk)  # type: ignore[attr-defined]
            digest.update(chunk)
    finally:
        fh.close()  # type: ignore[attr-defined]
    return path, f'"{digest.hexdigest()}"'


async def _cdn(sandbox: Sandbox, sub: str, request: Request) -> Response:
    method = request.method
    storage = sandbox.storage
    cdn = sandbox.urls["cdn"]
    if method in ("GET", "HEAD"):
        match = _FILE.match(sub)
        if match is None:
            return fal_error(404, "Not found")
        return _serve_file(storage, match["key"], request)
    presigned = _PRESIGNED.match(sub)
    if presigned is not None:
        return await _presigned(sandbox, presigned, request)
    refused = token_error(sandbox, request)
    if refused is not None:
        return refused
    # clients percent-encode names that are not printable ASCII (header values are ASCII)
    name = unquote(request.headers.get("x-fal-file-name") or "") or "upload.bin"
    content_type = request.headers.get("content-type") or "application/octet-stream"
    if method == "POST" and sub.rstrip("/") == "/files/upload":
        key = Storage.new_key()
        path, _ = await _write_stream(request, sandbox, key, ".upload")
        stored = storage.finish_file(key, name, content_type, path)
        return JSONResponse({"access_url": Storage.url(cdn, stored)})
    if method == "POST" and sub.rstrip("/") == "/files/upload/multipart":
        upload_id = secrets.token_hex(8)
        pending = PendingUpload(Storage.new_key(), name, content_type, upload_id=upload_id)
        storage.pending[pending.key] = pending
        return JSONResponse(
            {"access_url": f"{cdn}/files/{pending.key}/{_quote(name)}", "uploadId": upload_id}
        )
    multi = _CDN_MULTI.match(sub)
    if multi is not None:
        found = storage.pending.get(multi["key"])
        if found is None or not found.upload_id or found.upload_id != multi["upload"]:
            return fal_error(404, "Upload not found")
        return await _multipart_step(sandbox, found, multi["part"], request, "access_url")
    return fal_error(404, f"Not found: {sub}")


async def _presigned(sandbox: Sandbox, match: Any, request: Request) -> Response:
    storage = sandbox.storage
    pending = storage.pending.get(match["key"])
    if pending is None or not pending.token:
        return fal_error(404, "Upload not found or already completed")
    if request.query_params.get("token") != pending.token:
        return fal_error(403, "Invalid upload signature")
    part = match["part"]
    if part is None:
        if request.method != "PUT":
            return fal_error(405, "Method Not Allowed")
        path, _ = await _write_stream(request, sandbox, pending.key, ".upload")
        content_type = request.headers.get("content-type") or pending.content_type
        storage.pending.pop(pending.key, None)
        storage.finish_file(pending.key, pending.name, content_type, path)
        return JSONResponse({"ok": True})
    return await _multipart_step(sandbox, pending, part, request, "file_url")


async def _multipart_step(
    sandbox: Sandbox, pending: PendingUpload, part: str, request: Request, url_key: str
) -> Response:
    storage = sandbox.storage
    if part == "complete":
        if request.method != "POST":
            return fal_error(405, "Method Not Allowed")
        body, _ = await read_json(request)
        listed = body.get("parts") if isinstance(body, dict) else None
        if isinstance(listed, list):
            numbers = {int(p.get("partNumber", 0)) for p in listed if isinstance(p, dict)}
            if numbers != set(pending.parts):
                return fal_error(
                    400, f"Parts mismatch: got {sorted(numbers)}, stored {sorted(pending.parts)}"
                )
        if not pending.parts:
            return fal_error(400, "No parts uploaded")
        stored = storage.assemble(pending)
        return JSONResponse({url_key: Storage.url(sandbox.urls["cdn"], stored)})
    if request.method != "PUT":
        return fal_error(405, "Method Not Allowed")
    number = int(part)
    path, etag = await _write_stream(request, sandbox, pending.key, f".part{number}")
    pending.parts[number] = path
    return JSONResponse({"partNumber": number, "etag": etag}, headers={"etag": etag})


# -------------------------------------------------------------------------- serving


def _serve_file(storage: Storage, key: str, request: Request) -> Response:
    stored = storage.get(key)
    if stored is None:
        return fal_error(404, "File not found")
    size = stored.size
    headers = {
        "content-type": stored.content_type,
        "etag": stored.etag,
        "accept-ranges": "bytes",
        "cache-control": "public, max-age=3600",
    }
    start, end, status = 0, size - 1, 200
    spec = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if spec and (if_range is None or if_range == stored.etag):
        match = _RANGE.match(spec.strip())
        if match is not None and (match[1] or match[2]):
            if match[1]:
                start = int(match[1])
                end = min(int(match[2]), size - 1) if match[2] else size - 1
            else:
                start, end = max(0, size - int(match[2])), size - 1
            if start >= size or start > end:
                return Response(b"", 416, headers={"content-range": f"bytes */{size}"})
            status = 206
            headers["content-range"] = f"bytes {start}-{end}/{size}"
    length = max(0, end - start + 1)
    headers["content-length"] = str(length)
    if request.method == "HEAD" or length == 0:
        return Response(b"", status, headers=headers)
    return StreamingResponse(stored.iter_range(start, end), status, headers=headers)
