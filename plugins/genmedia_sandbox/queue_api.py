"""HTTP side of the queue (queue.fal.run) and the synchronous run host (fal.run).

Routes below ``/queue``: ``POST /{endpoint_id}`` (submit), ``GET /{owner}/{app}/
requests/{id}/status[/stream]``, ``GET /{owner}/{app}/requests/{id}`` (result),
``PUT …/cancel``; a trailing slash is accepted everywhere. Below ``/run``:
``POST /{endpoint_id}`` (run and wait) and ``POST /{endpoint_id}/stream`` (SSE).

Input validation (fal-api.md c.1/c.4): submit accepts any JSON object; the job then
runs, ends COMPLETED (with an ERROR log line), and the result endpoint answers 422
with the FastAPI ``detail`` list, exactly like a fal model rejecting its input.
The sync run host answers that 422 directly.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from .records import Fault, Job
from .responses import fal_error, read_json

if TYPE_CHECKING:
    from .state import Sandbox

_REQ = re.compile(
    r"^/(?P<app>.+?)/requests/(?P<rid>[^/]+)(?P<tail>/status/stream|/status|/cancel)?/?$"
)
KEEPALIVE_S = 15.0


def _logs_flag(raw: str | None) -> bool:
    """fal's ``logs`` query parameter (clients send ``1``/``0`` or ``true``/``false``): a
    wire value the emulator reads as fal does, not a genmedia switch, so not
    ``genmedia.truthy`` (whose ``on`` is genmedia's own word)."""
    return (raw or "").strip().lower() in ("1", "true", "yes")


def job_urls(sandbox: Sandbox, job: Job) -> dict[str, str]:
    base = f"{sandbox.urls['queue']}/{job.app_path}/requests/{job.request_id}"
    return {"response_url": base, "status_url": base + "/status", "cancel_url": base + "/cancel"}


def status_body(sandbox: Sandbox, job: Job, logs: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"status": job.status, "request_id": job.request_id}
    if job.status == "IN_QUEUE":
        body["queue_position"] = sandbox.queue.queue_position(job)
    else:
        # a moving window, like fal's (c.2): clients must de-duplicate by content
        body["logs"] = list(job.logs[-sandbox.log_window :]) if logs else None
    if job.status == "COMPLETED":
        body["metrics"] = (
            {"inference_time": job.inference_time} if job.inference_time is not None else {}
        )
        if job.error:
            body["error"], body["error_type"] = job.error, job.error_type
    body.update(job_urls(sandbox, job))
    return body


def _json_invalid(message: str) -> Response:
    return fal_error(
        422,
        [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error", "input": {},
          "ctx": {"error": message}}],
    )  # fmt: skip


async def handle(
    sandbox: Sandbox, role: str, sub: str, request: Request, job_faults: list[Fault]
) -> Response:
    if role == "run":
        return await _run_sync(sandbox, sub, request, job_faults)
    match = _REQ.match(sub)
    if match is None:
        if request.method != "POST":
            return fal_error(405, "Method Not Allowed")
        return await _submit(sandbox, sub, request, job_faults)
    job = await sandbox.queue.find(match["rid"])
    tail = match["tail"]
    if job is None or job.app_path != match["app"].strip("/"):
        if tail == "/cancel":
            return JSONResponse({"status": "NOT_FOUND"}, 404)
        return fal_error(404, "Request not found")
    if tail == "/cancel":
        if request.method not in ("PUT", "POST"):
            return fal_error(405, "Method Not Allowed")
        code, text = sandbox.queue.cancel(job)
        return JSONResponse({"status": text}, code, headers={"x-fal-request-id": job.request_id})
    if request.method != "GET":
        return fal_error(405, "Method Not Allowed")
    if tail == "/status":
        body = status_body(sandbox, job, _logs_flag(request.query_params.get("logs")))
        return JSONResponse(body, 200 if job.status == "COMPLETED" else 202)
    if tail == "/status/stream":
        return StreamingResponse(
            _stream(sandbox, job, _logs_flag(request.query_params.get("logs"))),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-fal-request-id": job.request_id},
        )
    if job.status != "COMPLETED":
        return fal_error(400, "Request is still in progress", {"x-fal-request-id": job.request_id})
    return _result(job)


def _result(job: Job) -> Response:
    headers = {"x-fal-request-id": job.request_id, **job.result_headers}
    return JSONResponse(job.result_body, job.result_status, headers=headers)


async def _stream(sandbox: Sandbox, job: Job, logs: bool) -> Any:
    last = None
    quiet = 0.0
    while True:
        text = json.dumps(status_body(sandbox, job, logs))
        if text != last:
            yield f"data: {text}\n\n"
            last, quiet = text, 0.0
        if job.status == "COMPLETED":
            return
        # a job run by another process (or by nobody) moves by the clock: look again often
        if not await sandbox.queue.wait_change(job, 0.25):
            quiet += 0.25
            job = await sandbox.queue.find(job.request_id) or job
            if quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"


async def _accept(
    sandbox: Sandbox, sub: str, request: Request, job_faults: list[Fault], sync: bool
) -> Job | Response:
    found = sandbox.catalog.match_path(sub)
    if found is None:
        parts = sub.strip("/").split("/")
        if len(parts) < 2 or not all(parts[:2]):
            return fal_error(
                400, f"Invalid app id: {sub.strip('/')}. Must be in the format <appOwner>/<appId>"
            )
        return fal_error(404, f"Application '{'/'.join(parts[:2])}' not found (sandbox catalog)")
    model, rest = found
    if rest and not (sync and rest == "stream"):
        return fal_error(404, f"Path /{rest} not found for {model.endpoint_id}")
    payload, error = await read_json(request)
    if error is not None:
        return _json_invalid(error)
    if payload is None:
        payload = {}
    headers = {k.lower(): v for k, v in request.headers.items()}
    timeout = headers.get("x-fal-request-timeout")
    if timeout is not None:
        try:
            ok = float(timeout) > 0
        except ValueError:
            ok = False
        if not ok:
            return fal_error(
                400,
                f"Invalid X-Fal-Request-Timeout: {timeout!r}",
                {"x-fal-error-type": "bad_request"},
            )
    limit = request.query_params.get("fal_max_queue_length")
    if limit is not None and not sync:
        try:
            max_len = int(limit)
        except ValueError:
            max_len = -1
        if max_len < 0:
            return fal_error(400, f"Invalid fal_max_queue_length: {limit!r}")
        if sandbox.queue.waiting(model.endpoint_id) >= max_len:
            return fal_error(
                429,
                f"Queue is full: {model.endpoint_id} has {max_len} or more requests waiting "
                f"(fal_max_queue_length={max_len})",
                {"x-fal-error-type": "queue_full"},
            )
    priority = headers.get("x-fal-queue-priority")
    if priority is not None and priority not in ("normal", "low"):
        return fal_error(400, f"Invalid X-Fal-Queue-Priority: {priority!r}")
    return sandbox.queue.submit(
        model.endpoint_id,
        payload,
        headers=headers,
        webhook_url=request.query_params.get("fal_webhook"),
        job_faults=job_faults,
        sync=sync,
    )


async def _submit(
    sandbox: Sandbox, sub: str, request: Request, job_faults: list[Fault]
) -> Response:
    job = await _accept(sandbox, sub, request, job_faults, sync=False)
    if isinstance(job, Response):
        return job
    body: dict[str, Any] = {
        "status": "IN_QUEUE",
        "request_id": job.request_id,
        **job_urls(sandbox, job),
    }
    body["queue_position"] = sandbox.queue.queue_position(job)
    if job.webhook_url:
        body["gateway_request_id"] = job.request_id
    return JSONResponse(body, 200, headers={"x-fal-request-id": job.request_id})


async def _run_sync(
    sandbox: Sandbox, sub: str, request: Request, job_faults: list[Fault]
) -> Response:
    if request.method != "POST":
        return fal_error(405, "Method Not Allowed")
    job = await _accept(sandbox, sub, request, job_faults, sync=True)
    if isinstance(job, Response):
        return job
    while job.status != "COMPLETED":
        await sandbox.queue.wait_change(job, 1.0)
    if sub.rstrip("/").endswith("/stream") and job.result_status < 400:
        text = json.dumps(job.result_body)
        return Response(f"data: {text}\n\n", job.result_status, media_type="text/event-stream",
                        headers={"x-fal-request-id": job.request_id})  # fmt: skip
    return _result(job)
