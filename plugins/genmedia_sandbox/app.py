"""The emulator's ASGI application: role routing by path prefix, auth, faults, request log.

One port serves every fal host; the first path segment(s) name the host role:

====================  ===============================  ==========================
prefix                emulates                         handled in
====================  ===============================  ==========================
``/queue/…``          https://queue.fal.run            :mod:`.queue_api`
``/run/…``            https://fal.run                  :mod:`.queue_api`
``/rest/…``           https://rest.fal.ai              :mod:`.cdn`
``/api/v1/…``         https://api.fal.ai/v1            :mod:`.platform`, :mod:`.assets`
``/cdn/…``            https://v3.fal.media             :mod:`.cdn`
``/docs/mcp``         https://docs.fal.ai/mcp          :mod:`.docs_search`
``/_sandbox/…``       control routes (not fal)         :mod:`.control`
====================  ===============================  ==========================

Handlers are plain ``async def handler(sandbox, request, sub_path) -> Response``
functions using starlette's Request/Response; this module wraps them with the
wire-level fault effects (which need the raw ASGI ``send`` and the transport).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import faults as faultmod
from .catalog import Catalog
from .records import ROLE_PREFIXES, Fault, RequestLogEntry
from .storage import Storage
from .store import Store
from .validation import InputValidator, PlatformValidator, ValidationIssue

_ORDER = ["/api/v1", "/docs/mcp", "/_sandbox", "/queue", "/run", "/rest", "/cdn"]
_ROLE_BY_PREFIX = {prefix: role for role, prefix in ROLE_PREFIXES.items()}


def split_role(path: str) -> tuple[str, str]:
    for prefix in _ORDER:
        if path == prefix or path.startswith(prefix + "/"):
            return _ROLE_BY_PREFIX[prefix], path[len(prefix) :] or "/"
    return "unknown", path


def fal_error(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status, headers=headers)


def platform_error(status: int, kind: str, message: str) -> Response:
    return JSONResponse({"error": {"type": kind, "message": message}}, status)


#: The documented sandbox key (``genmedia --sandbox`` and ``genmedia sandbox env`` use it).
SANDBOX_KEY = "sandbox-key:offline-rehearsal"
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


class Sandbox:
    """All emulator state, shared by the ASGI app (event loop) and the test-side handle."""

    def __init__(
        self,
        *,
        validate_platform: bool = True,
        store: Store | None = None,
        result_ttl: float = 3600.0,
        token_ttl: float = 3600.0,
        log_window: int = 3,
    ) -> None:
        self.store = store or Store.temporary_store()
        self.result_ttl = result_ttl
        self.token_ttl = token_ttl
        self.log_window = log_window
        self.catalog = Catalog()
        self.storage = Storage(self.store)
        self.faults = faultmod.FaultRegistry()
        self.input_validator = InputValidator()
        self.platform_validator = PlatformValidator()
        self.validate_platform = validate_platform
        self.requests: list[RequestLogEntry] = []
        self.validation_errors: list[ValidationIssue] = []
        self.issue_total = 0  # never reset: lets fixtures see issues recorded during a test
        self.base_url = ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        from .assets import AssetsState
        from .queue import QueueEngine

        self.queue = QueueEngine(self)
        self.assets = AssetsState()

    @property
    def idempotency(self) -> dict[str, Any]:
        """Assets API Idempotency-Key → [fingerprint, status, body, content type] (stored)."""
        doc = self.store.read_doc("assets")
        found = doc.get("idempotency") if isinstance(doc, dict) else None
        return dict(found or {})

    @property
    def urls(self) -> dict[str, str]:
        b = self.base_url
        return {
            "queue": b + "/queue",
            "run": b + "/run",
            "rest": b + "/rest",
            "api": b + "/api/v1",
            "cdn": b + "/cdn",
            "docs": b + "/docs/mcp",
        }

    def reset_state(self) -> None:
        self.faults.clear()
        self.queue.reset()
        self.storage.reset()
        self.assets.reset()
        self.store.reset()
        with self._lock:
            self.requests.clear()
            self.validation_errors.clear()

    def log(self, entry: RequestLogEntry) -> None:
        with self._lock:
            self.requests.append(entry)

    def record_issue(self, issue: ValidationIssue) -> None:
        with self._lock:
            self.validation_errors.append(issue)
            self.issue_total += 1

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
                import traceback

                traceback.print_exc()
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
        from . import assets, platform

        optional_auth = sub.rstrip("/") == "/models" and request.method == "GET"
        if (not optional_auth or has_key(request)) and key_error(self, request) is not None:
            return platform_error(401, "authorization_error", "Missing or invalid API key")
        if sub == "/assets" or sub.startswith("/assets/"):
            return await assets.handle(self, sub[len("/assets") :], request)
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
