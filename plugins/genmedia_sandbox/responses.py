"""What every route handler of the emulator shares: fal's error bodies, keys, request bodies.

The handlers (:mod:`.queue_api`, :mod:`.cdn`, :mod:`.platform`, :mod:`.assets_api`,
:mod:`.docs_search`, :mod:`.control`) import these; :mod:`.app` only wires routes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .home import SANDBOX_KEY as SANDBOX_KEY  # the documented key, re-exported

if TYPE_CHECKING:
    from .state import Sandbox


def fal_error(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status, headers=headers)


def platform_error(status: int, kind: str, message: str) -> Response:
    return JSONResponse({"error": {"type": kind, "message": message}}, status)


#: Every key whose id (the part before ``:``) starts with this is a sandbox key.
SANDBOX_KEY_PREFIX = "sandbox"
NO_USER = "No user found for Key ID and Secret"


def has_key(request: Request) -> bool:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return scheme.lower() in ("key", "bearer") and bool(token.strip())


def is_sandbox_key(key: str) -> bool:
    return key.startswith(SANDBOX_KEY_PREFIX)


def key_error(sandbox: Sandbox, request: Request) -> Response | None:
    """None when the request carries an accepted ``Key …``; fal's 401 otherwise.

    Accepted: sandbox keys (id starting with ``sandbox``) and keys registered through
    ``POST /_sandbox/keys``. fal answers an unknown key with 401 "No user found for Key
    ID and Secret" and a missing one with 401 too.
    """
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if not token or scheme.lower() not in ("key", "bearer"):
        return fal_error(401, "Missing authorization header (use 'Authorization: Key <FAL_KEY>')")
    if scheme.lower() == "key" and (is_sandbox_key(token) or sandbox.store.has_key(token)):
        return None
    return fal_error(401, NO_USER)


async def read_body(request: Request) -> bytes:
    """Read the body once and keep it on the scope (the platform validator needs it)."""
    body = await request.body()
    request.scope["sandbox.body"] = body
    return body


async def read_json(request: Request) -> tuple[Any, str | None]:
    body = await read_body(request)
    if not body.strip():
        return None, None
    try:
        return json.loads(body), None
    except ValueError as exc:
        return None, str(exc)
