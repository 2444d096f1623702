"""Start/stop the emulator: uvicorn in a daemon thread, and the :class:`SandboxServer` handle.

``start_sandbox()`` binds 127.0.0.1 on an ephemeral port itself (so the real port
is known before serving), or serves a socket it is given already listening (the lazy
``--sandbox`` emulator of :mod:`.listener`), runs ``uvicorn.Server`` in a daemon thread (uvicorn
only installs signal handlers on the main thread, so none are installed here),
and returns once the server accepts connections. Accepted sockets get
TCP_NODELAY (asyncio sets it too; we set it explicitly in our protocol class)
and our protocol class exposes the transport to the app for wire-level faults.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import weakref
from typing import Any

from .listener import listen
from .records import ROLE_ENV, Fault, Job, RequestLogEntry, Timing

#: Every server started in this process that is still running (for the pytest plugin).
LIVE: weakref.WeakSet[SandboxServer] = weakref.WeakSet()
_UNSET: Any = object()


def _protocol_class() -> type:
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class SandboxProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        """uvicorn's HTTP protocol + TCP_NODELAY + the transport in ``scope["extensions"]``."""

        def connection_made(self, transport: Any) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
            super().connection_made(transport)
            app: Any = self.app  # type: ignore[has-type]

            async def app_with_transport(scope: Any, receive: Any, send: Any) -> None:
                scope.setdefault("extensions", {})["sandbox.transport"] = transport
                await app(scope, receive, send)

            self.app = app_with_transport

    return SandboxProtocol


class SandboxServer:
    """A running emulator. Every method is safe to call from the test's thread."""

    def __init__(
        self, sandbox: Any, server: Any, thread: threading.Thread, scheme: str, port: int
    ) -> None:
        self._sandbox = sandbox
        self._server = server
        self._thread = thread
        self.port = port
        self.scheme = scheme
        self.base_url = f"{scheme}://127.0.0.1:{port}"
        sandbox.base_url = self.base_url
        sandbox.store.base_url = self.base_url

    # -- addresses -----------------------------------------------------------------------
    @property
    def urls(self) -> dict[str, str]:
        """Role → base URL: queue, run, rest, api, cdn, docs."""
        urls: dict[str, str] = self._sandbox.urls
        return urls

    def env(self) -> dict[str, str]:
        """The ``GENMEDIA_FAL_*_URL`` variables that point genmedia at this server."""
        return {ROLE_ENV[role]: url for role, url in self.urls.items()}

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._server.should_exit

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, in order: the queue first (running jobs are cancelled on the loop
        and stay pending in the store), then the server; open keep-alive connections are
        not waited for. A temporary store is deleted; a persistent one is kept."""
        loop = self._sandbox.loop
        if loop is not None and self._thread.is_alive() and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self._sandbox.queue.close(), loop).result(timeout)
            except Exception:  # the loop is going away anyway; never fail a stop
                pass
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout)
        self._sandbox.storage.close()
        self._sandbox.store.close()
        LIVE.discard(self)

    @property
    def store(self) -> Any:
        """The :class:`genmedia_sandbox.store.Store` this server keeps its state in."""
        return self._sandbox.store

    def register_key(self, key: str) -> None:
        """Accept ``key`` from now on (besides the sandbox keys), like ``POST /_sandbox/keys``."""
        self._sandbox.store.add_key(key)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the server's event loop and wait for it (state touched by the loop)."""
        loop = self._sandbox.loop
        if loop is None or not self._thread.is_alive():
            return fn(*args, **kwargs)

        async def run() -> Any:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(10)

    def reset(self) -> None:
        """Clear faults, jobs, files, assets, request log, validation errors and timings."""
        self._call(self._sandbox.reset_state)

    def add_fault(
        self,
        role: str | None = None,
        path: str | None = None,
        method: str | None = None,
        kind: str = "status",
        count: int | None = None,
        **params: Any,
    ) -> Fault:
        """Register a fault (see :mod:`genmedia_sandbox.faults` for kinds and params)."""
        from .faults import make_fault

        fault = make_fault(kind, role=role, path=path, method=method, count=count, **params)
        added: Fault = self._sandbox.faults.add(fault)
        return added

    def add_faults(self, spec: str) -> list[Fault]:
        """Register faults from a spec string (the ``X-Sandbox-Fault`` syntax)."""
        from .faults import parse_spec

        return [self._sandbox.faults.add(f) for f in parse_spec(spec)]

    def clear_faults(self) -> None:
        self._sandbox.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        return list(self._sandbox.faults.faults)

    def set_timing(
        self,
        endpoint_id: str | None = None,
        queue_s: float | None = None,
        run_s: float | None = None,
        concurrency: int | None = _UNSET,
        log_lines: int | None = None,
    ) -> Timing:
        """Queue clock for one endpoint (or the default). ``concurrency=None`` = unlimited."""
        changes: dict[str, Any] = {"queue_s": queue_s, "run_s": run_s, "log_lines": log_lines}
        timing: Timing = self._call(self._sandbox.queue.set_timing, endpoint_id, **changes)
        if concurrency is not _UNSET:
            timing.concurrency = concurrency
        return timing

    # -- observations --------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestLogEntry]:
        return list(self._sandbox.requests)

    @property
    def jobs(self) -> list[Job]:
        return list(self._sandbox.queue.jobs.values())

    def job(self, request_id: str) -> Job | None:
        job: Job | None = self._sandbox.queue.jobs.get(request_id)
        return job

    @property
    def completion_times(self) -> dict[str, float]:
        """request_id → ``time.time()`` at which the job became COMPLETED."""
        return {j.request_id: j.completed_at for j in self.jobs if j.completed_at is not None}

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        return list(self._sandbox.queue.webhooks)

    @property
    def validation_errors(self) -> list[Any]:
        return list(self._sandbox.validation_errors)

    def clear_validation_errors(self) -> None:
        with self._sandbox._lock:
            self._sandbox.validation_errors.clear()

    @property
    def validation_issue_total(self) -> int:
        return int(self._sandbox.issue_total)

    @property
    def sandbox(self) -> Any:
        """The underlying state object (catalog, storage, queue …), for white-box tests."""
        return self._sandbox

    def make_file(
        self,
        size_bytes: int,
        content_type: str = "application/octet-stream",
        name: str = "blob.bin",
    ) -> str:
        """A deterministic file of ``size_bytes`` on the CDN (made on demand); returns its URL."""
        from .control import make_file

        return make_file(self._sandbox, int(size_bytes), content_type, name)

    def __repr__(self) -> str:
        return f"<SandboxServer {self.base_url}>"

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _seconds(value: float | None, env: str) -> float:
    import os

    if value is not None:
        return float(value)
    raw = os.environ.get(env)
    try:
        return float(raw) if raw else 3600.0
    except ValueError:
        raise ValueError(f"{env} must be a number of seconds, not {raw!r}") from None


def start_sandbox(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    queue_s: float | None = None,
    run_s: float | None = None,
    concurrency: int | None = None,
    faults: str | None = None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    validate_platform: bool = True,
    warm_validator: bool = False,
    store: Any = None,
    result_ttl: float | None = None,
    token_ttl: float | None = None,
    log_level: str = "critical",
    timeout: float = 10.0,
    sock: socket.socket | None = None,
) -> SandboxServer:
    """Start an emulator in a background thread and return its handle once it accepts.

    ``queue_s``/``run_s``/``concurrency`` set the default queue clock; ``faults`` is a
    fault spec registered at start; ``ssl_certfile``/``ssl_keyfile`` serve HTTPS;
    ``warm_validator`` builds the openapi-core validator in a background thread;
    ``store`` is a :class:`~genmedia_sandbox.store.Store` (default: a private temporary
    one, deleted at stop); ``result_ttl`` is how long results stay fetchable (default
    ``$GENMEDIA_SANDBOX_RESULT_TTL`` or 3600 s), ``token_ttl`` how long CDN upload tokens
    stay valid (``$GENMEDIA_SANDBOX_TOKEN_TTL`` or 3600 s). ``sock``: serve this bound,
    listening socket (``port`` and ``host`` are then ignored); connections already waiting
    in its backlog are accepted by the server.
    """
    import uvicorn

    from .app import SandboxApp

    sandbox = SandboxApp(
        validate_platform=validate_platform,
        store=store,
        result_ttl=_seconds(result_ttl, "GENMEDIA_SANDBOX_RESULT_TTL"),
        token_ttl=_seconds(token_ttl, "GENMEDIA_SANDBOX_TOKEN_TTL"),
    )
    sandbox.queue.set_timing(None, queue_s=queue_s, run_s=run_s)
    sandbox.queue.timings[None].concurrency = concurrency
    if faults:
        from .faults import parse_spec

        for fault in parse_spec(faults):
            sandbox.faults.add(fault)
    if sock is None:
        sock = listen(host, port)
    host, real_port = sock.getsockname()[:2]
    config = uvicorn.Config(
        sandbox,
        host=host,
        port=real_port,
        interface="asgi3",
        http=_protocol_class(),
        ws="none",
        lifespan="on",
        loop="asyncio",
        log_level=log_level,
        access_log=False,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"genmedia-sandbox-{real_port}",
        daemon=True,
    )
    handle = SandboxServer(sandbox, server, thread, "https" if ssl_certfile else "http", real_port)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"genmedia sandbox failed to start on {host}:{real_port}")
        time.sleep(0.002)
    LIVE.add(handle)
    if warm_validator and validate_platform:
        threading.Thread(
            target=sandbox.platform_validator.warm_up, name="sandbox-warmup", daemon=True
        ).start()
    return handle
