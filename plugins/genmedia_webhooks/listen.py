"""``genmedia webhook listen``: a receiver that verifies deliveries and finishes the jobs.

The server is the standard library's ``ThreadingHTTPServer`` (no dependency). Deliveries
and the backstop are processed one at a time (one lock): each finds its job through
``genmedia_find_job``, asks ``genmedia_list_runs`` whether the journal already records
its ending, and if not finishes it through the one execution path: ``genmedia_execute``
with the existing handle, waiting on a job that has ended (its ending goes through
``genmedia_job_finished``), then the output sinks (``--download``; the journal completes
the row in its sink). The answer is 2xx only once the journal records an ending.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import attrs

from genmedia import errors

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import JobHandle

#: The journal states that are a job's ending (``genmedia.records.RunRecord.status``).
ENDINGS = ("completed", "failed", "cancelled")
#: Longest wait for a job said to have ended (seconds): past it, answered 500 (retried).
WAIT_LIMIT = 60.0
#: Largest delivery body accepted (bytes); fal's payloads are JSON results.
MAX_BODY = 25 * 1024 * 1024


@attrs.frozen
class ListenOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    path: str = "/"
    download: str | None = None
    overwrite: bool | None = None
    backstop_after: float | None = 300.0
    max_deliveries: int | None = None
    exit_after: float | None = None
    jwks_url: str | None = None


@attrs.frozen
class Line:
    """One NDJSON line on stdout. ``event``: ``listening``, ``delivery``, ``backstop``,
    ``stopped``. ``outcome`` of a delivery: ``completed``, ``failed``, ``cancelled``,
    ``duplicate`` (the journal already had its ending: nothing changed), ``unknown_job``
    (not in the journal: answered 503 so it is delivered again), ``invalid`` (answered
    401), ``error``."""

    event: str
    request_id: str | None = None
    outcome: str | None = None
    http_status: int | None = None
    reason: str | None = None
    error: str | None = None
    endpoint_id: str | None = None
    files: list[str] | None = None
    url: str | None = None
    deliveries: int | None = None
    warnings: list[str] | None = None


class Receiver:
    def __init__(self, app: AppContext, options: ListenOptions) -> None:
        from genmedia_webhooks.verify import Verifier

        self.app = app
        self.options = options
        self.verifier = Verifier(app.settings.cache_dir, options.jwks_url, settings=app.settings)
        self.work_lock = threading.Lock()
        self.print_lock = threading.Lock()
        self.count = 0
        self.stop = threading.Event()

    # -- output ----------------------------------------------------------------------
    def emit(self, line: Line) -> None:
        from genmedia.serialization import unstructure

        text = json.dumps(unstructure(line), ensure_ascii=False, default=str)
        with self.print_lock:
            print(text, file=self.app.stdout, flush=True)

    def counted(self) -> None:
        with self.print_lock:
            self.count += 1
            if self.options.max_deliveries and self.count >= self.options.max_deliveries:
                self.stop.set()

    # -- the journal, through hooks --------------------------------------------------
    def recorded(self, handle: JobHandle) -> str | None:
        """The journal's state of the job (``genmedia_list_runs``), None if not listed."""
        from genmedia.records import RunQuery

        query = RunQuery(endpoint=handle.endpoint_id)
        runs = self.app.pm.hook.genmedia_list_runs(query=query, ctx=self.app)
        return next((r.status for r in runs or () if r.request_id == handle.request_id), None)

    def settle(self, handle: JobHandle, event: str) -> Line:
        """Finish the job; the line reports what the journal recorded, 200 once it is an
        ending (``completed``, ``failed``, ``cancelled``), else 500."""
        line = attrs.evolve(self.finish(handle), event=event)
        state = self.recorded(handle)
        if state in ENDINGS:
            return attrs.evolve(line, outcome=state, http_status=200)
        return attrs.evolve(line, outcome="error", http_status=500)

    def finish(self, handle: JobHandle) -> Line:
        """Finish a job that has ended, like ``status REQUEST_ID --wait``: its ending
        through ``genmedia_job_finished``, then the output sinks."""
        from genmedia import pipeline
        from genmedia.types import RunOptions, RunRequest

        extra: dict[str, Any] = {}
        if self.options.download is not None:
            extra = {"download": self.options.download, "overwrite": self.options.overwrite}
        request = RunRequest(
            endpoint_id=handle.endpoint_id,
            provider=handle.provider,
            # "wait" on a job that has ended: one status read (a failed job is then a
            # JobFailedError, recorded "failed"), then the result; bounded, in case not
            options=RunOptions(wait=True, timeout=WAIT_LIMIT),
            extra=extra,
        )
        base: dict[str, Any] = {"request_id": handle.request_id, "endpoint_id": handle.endpoint_id}
        try:
            provider = self.app.provider(handle.provider)
            result = self.app.pm.hook.genmedia_execute(
                request=request, provider=provider, handle=handle, ctx=self.app
            )
            pipeline.finish(self.app, result, extra)
        except errors.GenmediaError as exc:
            return Line("delivery", outcome="error", error=exc.message, **base)
        files = [f.path for f in result.saved_files] or None
        failures = [f"{f.json_path}: {f.error}" for f in result.save_failures]
        return Line(
            "delivery", outcome="completed", files=files, error="; ".join(failures) or None, **base
        )

    def process(self, request_id: str) -> Line:
        """A verified delivery for ``request_id``: finish its job unless already finished."""
        with self.work_lock:
            handle = self.app.pm.hook.genmedia_find_job(reference=request_id, ctx=self.app)
            if handle is None or handle.request_id != request_id:
                return Line(
                    "delivery", request_id=request_id, outcome="unknown_job", http_status=503
                )
            if self.recorded(handle) in ENDINGS:
                return Line(
                    "delivery",
                    request_id=request_id,
                    endpoint_id=handle.endpoint_id,
                    outcome="duplicate",
                    http_status=200,
                )
            return self.settle(handle, "delivery")

    # -- the backstop ------------------------------------------------------------------
    def backstop(self) -> None:
        """Finish every unfinished journal job older than ``--backstop-after`` that is done."""
        from genmedia.records import RunQuery, same_marks

        after = self.options.backstop_after
        if after is None:
            return
        runs = self.app.pm.hook.genmedia_list_runs(
            query=RunQuery(statuses=("pending",)), ctx=self.app
        )
        now = time.time()
        for run in runs or ():
            if self.stop.is_set():
                return
            # a run made under other output marks (another plugin's hosts) is not ours
            same_mode = same_marks(run.marks, self.app.marks)
            if run.submitted_at > now - after or not same_mode:
                continue
            with self.work_lock:
                try:
                    handle = self.app.pm.hook.genmedia_find_job(
                        reference=run.request_id, ctx=self.app
                    )
                    if handle is None or self.recorded(handle) in ENDINGS:
                        continue  # a delivery finished it meanwhile
                    provider = self.app.provider(handle.provider)
                    if not provider.status(handle, logs=False).done:
                        continue
                except errors.GenmediaError as exc:
                    failed = Line("backstop", request_id=run.request_id, outcome="error")
                    self.emit(attrs.evolve(failed, error=exc.message))
                    continue
                line = self.settle(handle, "backstop")
            self.emit(line)
            self.counted()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "genmedia-webhook"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # stdout carries the NDJSON lines; nothing else

        def _answer(self, status: int, doc: dict[str, Any]) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(405, {"error": "POST webhook deliveries here"})

        def do_POST(self) -> None:
            base = receiver.options.path.rstrip("/")
            path = self.path.split("?", 1)[0]
            if base and path != base and not path.startswith(base + "/"):
                self._answer(404, {"error": "not a webhook path"})
                return
            try:
                length = int(self.headers.get("content-length") or "")
            except ValueError:
                self._answer(411, {"error": "content-length required"})
                return
            if length < 0 or length > MAX_BODY:
                self._answer(413, {"error": "body too large"})
                return
            body = self.rfile.read(length)
            verdict = receiver.verifier.verify(dict(self.headers.items()), body)
            if not verdict.valid:
                line = Line(
                    "delivery",
                    request_id=verdict.request_id,
                    outcome="invalid",
                    reason=verdict.reason,
                    error=verdict.message,
                    http_status=401,
                )
                self._answer(401, {"error": verdict.message, "reason": verdict.reason})
            else:
                try:
                    line = receiver.process(str(verdict.request_id))
                except Exception as exc:  # answer 500 so fal delivers it again
                    line = Line(
                        "delivery",
                        request_id=verdict.request_id,
                        outcome="error",
                        error=f"{type(exc).__name__}: {exc}",
                        http_status=500,
                    )
                status = line.http_status or 500
                self._answer(status, {"request_id": verdict.request_id, "outcome": line.outcome})
            receiver.emit(line)
            if (line.http_status or 500) < 500:  # a 5xx is delivered again: not counted
                receiver.counted()

    return Handler


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(app: AppContext, options: ListenOptions) -> None:
    """Serve until ``--max-deliveries``, ``--exit-after`` or Ctrl-C."""
    app.configure()
    receiver = Receiver(app, options)
    warnings: list[str] = []
    if not _loopback(options.host):
        warnings.append(
            f"listening on {options.host}: reachable from other machines; every delivery "
            "is still verified, but put TLS (a reverse proxy) in front of it"
        )
        app.warn(warnings[-1])
    try:
        server = ThreadingHTTPServer((options.host, options.port), _handler(receiver))
    except OSError as exc:
        raise errors.UsageError(
            f"Cannot listen on {options.host}:{options.port}: {exc.strerror or exc}",
            {"host": options.host, "port": options.port},
        ) from None
    server.daemon_threads = True
    bound, port = server.server_address[:2]
    host = bound.decode() if isinstance(bound, bytes) else str(bound)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}{options.path if options.path.startswith('/') else '/'}"
    receiver.emit(Line("listening", url=url, warnings=warnings or None))
    thread = threading.Thread(target=server.serve_forever, name="webhook-listen", daemon=True)
    thread.start()
    deadline = time.monotonic() + options.exit_after if options.exit_after else None
    after = options.backstop_after
    interval = 30.0 if after is None else min(max(after / 2, 0.5), 30.0)
    next_poll = time.monotonic()
    try:
        while not receiver.stop.is_set():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if after is not None and now >= next_poll:
                receiver.backstop()
                next_poll = time.monotonic() + interval
            receiver.stop.wait(0.2)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a receiver is stopped: a clean exit
    finally:
        server.shutdown()
        server.server_close()
    receiver.emit(Line("stopped", deliveries=receiver.count))
