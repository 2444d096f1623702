"""Control routes under ``/_sandbox`` (not part of fal; for tests, benchmarks and CI scripts).

=========================  =====================================================
``GET /_sandbox``          base URL, role URLs and env vars
``GET /_sandbox/faults``   registered faults; ``POST`` adds (``{"spec": "..."}``,
                           a fault object ``{"kind", "role", "path", "method",
                           "count", ...params}`` or a list); ``DELETE`` clears
``POST /_sandbox/timings`` ``{"endpoint_id"?, "queue_s"?, "run_s"?, "concurrency"?}``
``GET /_sandbox/requests`` the request log
``GET /_sandbox/jobs``     jobs (id, endpoint, status, timestamps)
``GET /_sandbox/validation-errors``  Platform API validation failures
``POST /_sandbox/files``   ``{"size": N, "content_type"?, "name"?}`` → ``{"url"}``
``POST /_sandbox/keys``    ``{"key": "<id>:<secret>"}``: accept this key from now on
                           (besides the sandbox keys, whose id starts with ``sandbox``)
``POST /_sandbox/reset``   clear faults, jobs, files, assets, logs, timings, keys
=========================  =====================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import faults as faultmod
from .records import ROLE_ENV
from .responses import fal_error, read_json
from .storage import Storage

if TYPE_CHECKING:
    from .state import Sandbox


def info(sandbox: Sandbox) -> dict[str, Any]:
    urls = sandbox.urls
    return {
        "base_url": sandbox.base_url,
        "urls": urls,
        "env": {ROLE_ENV[role]: url for role, url in urls.items()},
        "sandbox": True,
    }


def make_file(sandbox: Sandbox, size: int, content_type: str, name: str) -> str:
    stored = sandbox.storage.put_blob(size, name, content_type, f"file:{name}:{size}")
    return Storage.url(sandbox.urls["cdn"], stored)


async def handle(sandbox: Sandbox, sub: str, request: Request) -> Response:
    path, method = sub.rstrip("/") or "/", request.method
    body, error = await read_json(request)
    if error is not None:
        return fal_error(400, f"Malformed JSON: {error}")
    if path == "/":
        return JSONResponse(info(sandbox))
    if path == "/faults":
        if method == "GET":
            return JSONResponse({"faults": [attrs.asdict(f) for f in sandbox.faults.faults]})
        if method == "DELETE":
            sandbox.faults.clear()
            return JSONResponse({"faults": []})
        try:
            added = [sandbox.faults.add(f) for f in faultmod.from_json(body or {})]
        except (faultmod.FaultSpecError, TypeError, ValueError) as exc:
            return fal_error(400, str(exc))
        return JSONResponse({"faults": [attrs.asdict(f) for f in added]}, 201)
    if path == "/timings" and method == "POST":
        body = body or {}
        changes = {
            k: body[k] for k in ("queue_s", "run_s", "concurrency", "log_lines") if k in body
        }
        timing = sandbox.queue.set_timing(body.get("endpoint_id"), **changes)
        return JSONResponse(attrs.asdict(timing))
    if path == "/requests":
        return JSONResponse({"requests": [attrs.asdict(r) for r in sandbox.requests]})
    if path == "/validation-errors":
        return JSONResponse(
            {"validation_errors": [attrs.asdict(v) for v in sandbox.validation_errors]}
        )
    if path == "/jobs":
        keep = ("request_id", "endpoint_id", "status", "created_at", "started_at", "completed_at",
                "result_status", "error", "error_type", "cancelled")  # fmt: skip
        jobs = [{k: getattr(j, k) for k in keep} for j in sandbox.queue.jobs.values()]
        return JSONResponse({"jobs": jobs})
    if path == "/files" and method == "POST":
        body = body or {}
        try:
            size = int(body.get("size", 0))
        except (TypeError, ValueError):
            size = -1
        if size < 0:
            return fal_error(400, "size must be a non-negative integer")
        url = make_file(
            sandbox, size, str(body.get("content_type") or "application/octet-stream"),
            str(body.get("name") or "blob.bin"),
        )  # fmt: skip
        return JSONResponse({"url": url}, 201)
    if path == "/keys" and method == "POST":
        key = body.get("key") if isinstance(body, dict) else None
        if not isinstance(key, str) or not key.strip() or not key.isprintable():
            return fal_error(400, 'body must be {"key": "<id>:<secret>"}')
        sandbox.store.add_key(key.strip())
        return JSONResponse({"registered": True}, 201)
    if path == "/reset" and method == "POST":
        sandbox.reset_state()
        return JSONResponse({"reset": True})
    return fal_error(404, f"Unknown control route: {sub}")
