"""The emulator's ASGI application: role routing by path prefix, auth, faults, request log.

One port serves every fal host; the first path segment(s) name the host role:

====================  ===============================  ==========================
prefix                emulates                         handled in
====================  ===============================  ==========================
``/queue/…``          https://queue.fal.run            :mod:`.queue_api`
``/run/…``            https://fal.run                  :mod:`.queue_api`
``/rest/…``           https://rest.fal.ai              :mod:`.cdn`
``/api/v1/…``         https://api.fal.ai/v1            :mod:`.platform`, :mod:`.assets_api`
``/cdn/…``            https://v3.fal.media             :mod:`.cdn`
``/docs/mcp``         https://docs.fal.ai/mcp          :mod:`.docs_search`
``/_sandbox/…``       control routes (not fal)         :mod:`.control`
====================  ===============================  ==========================

Handlers are plain ``async def handler(sandbox, request, sub_path) -> Response``
functions using starlette's Request/Response; they share :mod:`.responses` (error
bodies, keys, request bodies) and the :class:`~.state.Sandbox` state, and never import
this module. This module only wires routes and wraps them with the wire-level fault
effects (which need the raw ASGI ``send`` and the transport).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import faults as faultmod
from .records import ROLE_PREFIXES, Fault, RequestLogEntry
from .responses import fal_error, has_key, key_error, platform_error, read_body
from .state import Sandbox
from .validation import ValidationIssue

_ORDER = ["/api/v1", "/docs/mcp", "/_sandbox", "/queue", "/run", "/rest", "/cdn"]
_ROLE_BY_PREFIX = {prefix: role for role, prefix in ROLE_PREFIXES.items()}


def split_role(path: str) -> tuple[str, str]:
    for prefix in _ORDER:
        if path == prefix or path.startswith(prefix + "/"):
            return _ROLE_BY_PREFIX[prefix], path[len(prefix) :] or "/"
    return "unknown", path


class SandboxApp(Sandbox):
    """The emulator as an ASGI application: the :class:`~.state.Sandbox` state plus routing."""

    # -- ASGI --------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.loop = asyncio.get_running_loop()
                    self.queue.loop = self.loop
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        role, sub = split_role(scope["path"])
        request = Request(scope, receive)
        transport = scope.get("extensions", {}).get("sandbox.transport")
        state: dict[str, Any] = {"status": 0, "fault": None, "logged": role == "control"}

        def log_now() -> None:
            # called just before the response head goes out, so a client that has seen the
            # reply always finds its request in the log
            if state["logged"]:
                return
            state["logged"] = True
            self.log(
                RequestLogEntry(
                    method=scope["method"],
                    role=role,
                    path=sub,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    has_authorization="authorization" in request.headers,
                    status_code=state["status"],
                    timestamp=time.time(),
                    fault=state["fault"],
                )
            )

        state["log"] = log_now
        try:
            await self._serve(role, sub, request, scope, receive, send, transport, state)
        finally:
            log_now()

    async def _serve(
        self,
        role: str,
        sub: str,
        request: Request,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        transport: Any,
        state: dict[str, Any],
    ) -> None:
        method = scope["method"]
        if role == "api":
            await read_body(request)
        fired: list[Fault] = []
        if role not in ("control", "unknown"):
            spec = request.headers.get("x-sandbox-fault")
            if spec:
                try:
                    fired.extend(faultmod.parse_spec(spec))
                except faultmod.FaultSpecError as exc:
                    await self._send(
                        fal_error(400, f"bad X-Sandbox-Fault: {exc}"),
                        scope,
                        receive,
                        send,
                        None,
                        [],
                        state,
                    )
                    return
            fired.extend(self.faults.take(role, sub, method))
        wire = [f for f in fired if f.kind in faultmod.WIRE_KINDS]
        if wire:
            state["fault"] = ",".join(f.describe() for f in wire)
        for fault in wire:
            if fault.kind == "latency":
                await asyncio.sleep(float(fault.params.get("seconds", 0.5)))
        response: Response | None = None
        status_fault = next((f for f in wire if f.kind == "status"), None)
        if status_fault is not None:
            code, headers, body = faultmod.status_response(status_fault, role, _fault_request_id())
            response = Response(body, code, headers=dict(headers))
        elif any(f.kind == "malformed_json" for f in wire):
            body = b'{"status": "IN_QUEUE", "request_id": "019a3c1e-7f2b-7c40-9a51'
            response = Response(body, 200, media_type="application/json")
        else:
            job_faults = [f for f in fired if f.kind in faultmod.JOB_KINDS]
            try:
                response = await self.dispatch(role, sub, request, job_faults)
            except Exception as exc:  # an emulator bug: answer 500 and keep serving
                # The traceback goes to errors.log in the store, never to stderr: the
                # in-process emulator shares stderr with the CLI, whose JSON-mode stderr
                # must hold exactly one error object.
                self.log_internal_error()
                response = fal_error(500, f"sandbox internal error: {exc!r}")
        if role == "api" and self.validate_platform:
            # validated before sending, so an issue is recorded before the client sees the reply
            await asyncio.to_thread(self._validate_platform, request, sub, response, bool(wire))
        await self._send(response, scope, receive, send, transport, wire, state)

    async def _send(
        self,
        response: Response,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        transport: Any,
        wire: list[Fault],
        state: dict[str, Any],
    ) -> None:
        kinds = {f.kind: f for f in wire}
        promised: dict[str, Any] = {"n": None, "sent": 0, "dead": False}

        async def wrapped(message: dict[str, Any]) -> None:
            if promised["dead"]:
                return
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["log"]()
                if "reset_after_body" in kinds:
                    promised["dead"] = True
                    faultmod.hard_reset(transport)
                    return
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-length":
                        promised["n"] = int(value)
                await send(message)
                if "reset" in kinds:
                    promised["dead"] = True
                    await asyncio.sleep(0.05)
                    faultmod.hard_reset(transport)
                return
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                if "short_body" in kinds:
                    limit = max(0, (promised["n"] or len(body)) // 2)
                    room = max(0, limit - promised["sent"])
                    chunk = body[:room]
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        promised["sent"] += len(chunk)
                    if promised["sent"] >= limit or not message.get("more_body"):
                        promised["dead"] = True
                        await asyncio.sleep(0.02)
                        if transport is not None:
                            transport.close()
                    return
                if "slow_body" in kinds and body:
                    rate = float(kinds["slow_body"].params.get("bytes_per_s", 1024))
                    await faultmod.slow_send(_MoreBody(send), body, rate)
                    if not message.get("more_body"):
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            await send(message)

        await response(scope, receive, wrapped)  # type: ignore[arg-type]

    # -- routing -----------------------------------------------------------------------
    async def dispatch(
        self, role: str, sub: str, request: Request, job_faults: list[Fault]
    ) -> Response:
        if role in ("queue", "run"):
            from . import queue_api

            refused = key_error(self, request)
            if refused is not None:
                return refused
            return await queue_api.handle(self, role, sub, request, job_faults)
        if role in ("rest", "cdn"):
            from . import cdn

            return await cdn.handle(self, role, sub, request)
        if role == "api":
            return await self._api(sub, request)
        if role == "docs":
            from . import docs_search

            return await docs_search.handle(self, request)
        if role == "control":
            from . import control

            return await control.handle(self, sub, request)
        return fal_error(
            404,
            f"Not found: {request.url.path} (sandbox roles: {', '.join(ROLE_PREFIXES.values())})",
        )

    async def _api(self, sub: str, request: Request) -> Response:
        from . import assets_api, platform

        optional_auth = sub.rstrip("/") == "/models" and request.method == "GET"
        if (not optional_auth or has_key(request)) and key_error(self, request) is not None:
            return platform_error(401, "authorization_error", "Missing or invalid API key")
        if sub == "/assets" or sub.startswith("/assets/"):
            return await assets_api.handle(self, sub[len("/assets") :], request)
        return await platform.handle(self, sub, request)

    # -- platform validation -------------------------------------------------------------
    def _validate_platform(
        self, request: Request, sub: str, response: Response, faulted: bool
    ) -> None:
        body = request.scope.get("sandbox.body", b"")
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = list(request.query_params.multi_items())
        v = self.platform_validator
        try:
            problems = [
                ("request", p) for p in v.check_request(request.method, sub, query, headers, body)
            ]
            if not faulted and response.status_code != 401:
                resp_body = getattr(response, "body", b"")
                ctype = response.headers.get("content-type")
                problems += [
                    ("response", p)
                    for p in v.check_response(
                        request.method,
                        sub,
                        query,
                        headers,
                        body,
                        response.status_code,
                        resp_body,
                        ctype,
                    )
                ]
        except Exception as exc:  # never let the validator break the emulator
            problems = [("request", f"validator crashed: {exc!r}")]
        for direction, message in problems:
            self.record_issue(
                ValidationIssue(
                    direction,
                    request.method,
                    "/v1" + sub,
                    response.status_code,
                    message,
                    time.time(),
                )
            )


class _MoreBody:
    """A send() that never ends the body (slow_send's last empty message is dropped)."""

    def __init__(self, send: Any) -> None:
        self._send = send

    async def __call__(self, message: dict[str, Any]) -> None:
        if message.get("more_body") is False and not message.get("body"):
            return
        await self._send(message)


def _fault_request_id() -> str:
    from .queue import new_request_id

    return new_request_id()
