"""attrs records that cross the emulator's boundary (request log, faults, jobs, timings).

Tests read these objects through :class:`genmedia_sandbox.server.SandboxServer`
(``server.requests``, ``server.jobs``, ``server.faults``); they are plain attrs
classes so they compare, print and convert with cattrs like the rest of genmedia.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import attrs

from .listener import ROLE_PREFIXES as ROLE_PREFIXES  # host roles and their path prefixes

#: The environment variable each role's base URL is published under.
ROLE_ENV: dict[str, str] = {
    "queue": "GENMEDIA_FAL_QUEUE_URL",
    "run": "GENMEDIA_FAL_RUN_URL",
    "rest": "GENMEDIA_FAL_REST_URL",
    "api": "GENMEDIA_FAL_API_URL",
    "cdn": "GENMEDIA_FAL_CDN_URL",
    "docs": "GENMEDIA_FAL_DOCS_URL",
}


@attrs.frozen
class RequestLogEntry:
    """One request the emulator received (never the Authorization value)."""

    method: str
    role: str
    path: str
    query: str
    has_authorization: bool
    status_code: int
    timestamp: float
    fault: str | None = None


@attrs.define
class Fault:
    """A fault to inject into matching requests.

    ``role``/``path``/``method`` narrow which requests match (``path`` is an
    fnmatch glob over the path *below* the role prefix, e.g. ``/fal-ai/*``);
    ``count`` is how many matching requests it fires on (None = forever).
    ``params`` holds the knob's settings (``status``, ``retry_after``, ``seconds`` …).
    """

    kind: str
    role: str | None = None
    path: str | None = None
    method: str | None = None
    count: int | None = None
    params: dict[str, Any] = attrs.field(factory=dict)
    fired: int = 0

    def matches(self, role: str, path: str, method: str) -> bool:
        if self.count is not None and self.fired >= self.count:
            return False
        if self.role is not None and self.role != role:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def describe(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.kind}({extra})" if extra else self.kind


@attrs.define
class Timing:
    """Queue clock settings for one endpoint (or the default when endpoint_id is None)."""

    queue_s: float = 0.0
    run_s: float = 0.2
    concurrency: int | None = None
    log_lines: int = 3


@attrs.define(eq=False)
class Job:
    """One queued request and its life on the emulator's clock."""

    request_id: str
    endpoint_id: str
    app_path: str
    input: Any
    status: str = "IN_QUEUE"
    priority: str = "normal"
    webhook_url: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    completed_at: float | None = None
    logs: list[dict[str, Any]] = attrs.field(factory=list)
    result_status: int = 200
    result_body: Any = None
    result_headers: dict[str, str] = attrs.field(factory=dict)
    error: str | None = None
    error_type: str | None = None
    cancelled: bool = False
    runner_hint: str | None = None
    request_timeout: float | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    sync: bool = False
    inference_time: float | None = None
    queue_s: float = 0.0
    run_s: float = 0.0
    log_lines: int = 3
