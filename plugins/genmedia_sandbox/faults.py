"""Fault injection: the spec syntax, the registry, and the wire-level effects.

Spec syntax (header ``X-Sandbox-Fault``, env ``GENMEDIA_SANDBOX_FAULTS``,
``POST /_sandbox/faults {"spec": ...}``)::

    spec  := fault (";" fault)*
    fault := kind [":" key "=" value ("," key "=" value)*]

``role``, ``path`` (fnmatch glob below the role prefix), ``method`` and ``count``
select requests; every other key is a parameter of the knob. A kind that is a
3-digit number is shorthand for ``status:code=<n>``. Examples::

    429:retry_after=2,count=1,role=queue
    503:request_id=false            # nginx-style ingress error, no x-fal-request-id
    latency:seconds=0.3;reset:role=cdn,count=1
    model_error:message=CUDA out of memory,path=/fal-ai/flux/*

Kinds that act on the HTTP exchange: ``latency`` (seconds), ``status`` (code,
retry_after - sent on 429 by default and on any status when given -, request_id=true|false,
message), ``reset`` (connection reset after
the response headers), ``short_body`` (Content-Length larger than the body sent),
``slow_body`` (bytes_per_s), ``malformed_json``, ``reset_after_body`` (the request
is fully handled - e.g. the job IS created - then the connection is reset without
a response). Kinds that act on the job created by a submit: ``model_error``
(code, message, error_type), ``queue_time`` (seconds), ``run_time`` (seconds),
``hostile_names``, ``large_output`` (size bytes or mib).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
from typing import Any

from .records import Fault

WIRE_KINDS = {
    "latency",
    "status",
    "reset",
    "short_body",
    "slow_body",
    "malformed_json",
    "reset_after_body",
}
JOB_KINDS = {"model_error", "queue_time", "run_time", "hostile_names", "large_output"}
KINDS = WIRE_KINDS | JOB_KINDS
_SELECTORS = ("role", "path", "method", "count")


class FaultSpecError(ValueError):
    pass


def _value(raw: str) -> Any:
    low = raw.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def make_fault(kind: str, **fields: Any) -> Fault:
    kind = str(kind).strip()
    params = {k: v for k, v in fields.items() if k not in _SELECTORS and v is not None}
    if kind.isdigit():
        params.setdefault("code", int(kind))
        kind = "status"
    if kind not in KINDS:
        raise FaultSpecError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    if kind == "status" and "code" not in params:
        raise FaultSpecError("status fault needs code=<http status>")
    count = fields.get("count")
    return Fault(
        kind=kind,
        role=fields.get("role"),
        path=fields.get("path"),
        method=fields.get("method"),
        count=None if count is None else int(count),
        params=params,
    )


def parse_spec(spec: str) -> list[Fault]:
    faults = []
    for item in spec.split(";"):
        item = item.strip()
        if not item:
            continue
        kind, _, rest = item.partition(":")
        fields: dict[str, Any] = {}
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, raw = pair.partition("=")
            if not eq:
                raise FaultSpecError(f"expected key=value in fault spec, got {pair!r}")
            key = key.strip()
            fields[key] = raw.strip() if key in ("path", "role", "method") else _value(raw.strip())
        faults.append(make_fault(kind, **fields))
    return faults


def from_json(data: Any) -> list[Fault]:
    """Faults from a control-route body: {"spec": str} or fault objects (or a list of them)."""
    if isinstance(data, dict) and "spec" in data:
        return parse_spec(str(data["spec"]))
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if not isinstance(item, dict) or "kind" not in item:
            raise FaultSpecError("each fault needs a 'kind'")
        fields = dict(item)
        params = fields.pop("params", None) or {}
        kind = fields.pop("kind")
        out.append(make_fault(kind, **fields, **params))
    return out


class FaultRegistry:
    """Faults registered by tests, the control route or the environment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, role: str, path: str, method: str) -> list[Fault]:
        """The faults firing on this request (each consumes one of its count)."""
        fired = []
        with self._lock:
            for fault in self.faults:
                if fault.matches(role, path, method):
                    fault.fired += 1
                    fired.append(fault)
        return fired


# ----------------------------------------------------------------- wire effects

NGINX_BODY = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
_ERROR_TYPES = {
    500: "internal_error",
    502: "runner_incomplete_response",
    503: "runner_scheduling_failure",
    504: "request_timeout",
}
_PLATFORM_TYPES = {
    400: "validation_error",
    401: "authorization_error",
    403: "authorization_error",
    404: "not_found",
    409: "validation_error",
    422: "validation_error",
    429: "rate_limited",
}


def status_response(
    fault: Fault, role: str, request_id: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status code, headers and body of a ``status`` fault, shaped like fal's."""
    code = int(fault.params["code"])
    reason = REASONS.get(code, "Error")
    message = str(fault.params.get("message") or f"{reason} (sandbox fault)")
    headers: list[tuple[str, str]] = []
    with_id = fault.params.get("request_id", True)
    if code == 429 or "retry_after" in fault.params:
        headers.append(("retry-after", str(fault.params.get("retry_after", 1))))
    if code >= 500 and not with_id:
        body = NGINX_BODY.format(code=code, reason=reason).encode()
        headers.append(("content-type", "text/html"))
        return code, headers, body
    if with_id:
        headers.append(("x-fal-request-id", request_id))
    if role == "api":
        kind = _PLATFORM_TYPES.get(code, "server_error")
        payload: dict[str, Any] = {"error": {"type": kind, "message": message}}
    elif code == 422:
        payload = {
            "detail": [{"loc": ["body"], "msg": message, "type": "value_error", "input": None}]
        }
    elif code >= 500:
        error_type = str(fault.params.get("error_type") or _ERROR_TYPES.get(code, "internal_error"))
        payload = {"detail": message, "error_type": error_type}
        headers.append(("x-fal-error-type", error_type))
    else:
        payload = {"detail": message}
    headers.append(("content-type", "application/json"))
    return code, headers, json.dumps(payload).encode()


def hard_reset(transport: Any) -> None:
    """Drop the TCP connection with an RST (SO_LINGER 0), not a graceful FIN."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


async def slow_send(send: Any, body: bytes, bytes_per_s: float) -> None:
    """Send ``body`` in pieces at about ``bytes_per_s``."""
    step = max(1, int(bytes_per_s / 20))
    for i in range(0, len(body), step):
        await send({"type": "http.response.body", "body": body[i : i + step], "more_body": True})
        await asyncio.sleep(step / bytes_per_s)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
