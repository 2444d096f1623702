"""The fal queue (queue.fal.run): submit, status, status stream, result, cancel.

Waiting (:meth:`Queue.watch`) follows the SSE status stream
(``…/requests/{id}/status/stream?logs=1``) read by a helper thread, so the caller gets
control back at least every second without reconnecting; if the stream is unavailable or
breaks, it polls ``status`` adaptively (50 ms, growing ×1.5 to 1 s, back to 100 ms
whenever something changed). The COMPLETED event returns at once, so the result is
fetched within milliseconds of completion.

Retries: status, result and cancel are idempotent and retried on transport errors and
408/429/5xx (result only when the error did not come from the model: a response carrying
``x-fal-request-id`` is the job's stored answer and is final). Submit is retried only when
the request provably did not reach fal (see :func:`genmedia_fal.wire.submit_retryable`).
"""

from __future__ import annotations

import json
import queue as queue_mod
import threading
import time
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from genmedia import errors
from genmedia.http import RETRY_STATUSES, RetryPolicy, retry_call
from genmedia.types import CancelResult, JobHandle, JobStatus, RunRequest, RunResult
from genmedia_fal import errors as fal_errors
from genmedia_fal.client import IDEMPOTENT, FalClient
from genmedia_fal.wire import (
    app_path,
    iter_sse,
    never_sent,
    normalize_endpoint,
    parse_status,
    submit_retryable,
)

if TYPE_CHECKING:  # pragma: no cover
    import httpx

SUBMIT_POLICY = RetryPolicy(attempts=5, base=0.25, cap=8.0, total=60.0, transport_errors=False)
POLL_START, POLL_RESET, POLL_MAX, POLL_GROWTH = 0.05, 0.1, 1.0, 1.5
#: the stream's read timeout: fal sends a keep-alive comment every 15 s.
STREAM_READ_TIMEOUT = 40.0
STREAM_RECONNECTS = 3
#: the queue URLs fal hands back at submit, kept in ``JobHandle.extra``.
URL_KEYS = ("status_url", "response_url", "cancel_url")


class _Urls(NamedTuple):
    status_url: str
    response_url: str
    cancel_url: str


# --------------------------------------------------------------------------- the queue


class Queue:
    def __init__(self, client: FalClient) -> None:
        self.client = client

    # -- submit ---------------------------------------------------------------------------

    def submit(self, request: RunRequest) -> JobHandle:
        import httpx

        client = self.client
        endpoint = normalize_endpoint(request.endpoint_id)
        url = f"{client.host('queue')}/{endpoint}"
        headers = {**client.auth(), "Content-Type": "application/json"}
        opts = request.options
        # fal's own run options (added by this plugin through genmedia_add_options)
        priority, start_timeout = request.extra.get("priority"), request.extra.get("start_timeout")
        if priority:
            headers["X-Fal-Queue-Priority"] = str(priority)
        if start_timeout:
            headers["X-Fal-Request-Timeout"] = f"{float(start_timeout):.1f}"
        params = {"fal_webhook": opts.webhook} if opts.webhook else None
        body = json.dumps(request.input).encode()
        sent_at = time.time()

        def attempt() -> httpx.Response:
            return client.http.post(url, content=body, headers=headers, params=params)

        try:
            response = retry_call(
                attempt,
                SUBMIT_POLICY,
                should_retry=submit_retryable,
                retry_exception=never_sent,
                on_retry=client.on_retry(f"submit {endpoint}"),
            )
        except httpx.TransportError as exc:
            if isinstance(exc, (httpx.LocalProtocolError, httpx.UnsupportedProtocol)):
                # refused while building the request: no byte left, no job exists
                raise errors.UsageError(
                    f"Submit to {endpoint} was refused before sending: {exc}",
                    {"endpoint_id": endpoint, "job": "none: nothing was sent"},
                ) from None
            if never_sent(exc):
                raise fal_errors.network_error(
                    exc, url, what=f"Could not reach fal to submit {endpoint}"
                ) from None
            raise self._maybe_submitted(endpoint, sent_at, f"{type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise fal_errors.error_from_response(response, endpoint_id=endpoint)
        try:
            data = response.json()
            request_id = str(data["request_id"])
        except (ValueError, KeyError, TypeError):
            raise self._maybe_submitted(
                endpoint, sent_at, "the submit reply was unreadable"
            ) from None
        fallback = self.handle_for(endpoint, request_id).extra
        urls = {k: str(data.get(k) or fallback[k]) for k in URL_KEYS}
        return JobHandle("fal", endpoint, request_id, submitted_at=sent_at, extra=urls)

    def _maybe_submitted(self, endpoint: str, sent_at: float, reason: str) -> errors.GenmediaError:
        when = datetime.fromtimestamp(sent_at, UTC).isoformat(timespec="seconds")
        return fal_errors.fal_error(
            errors.RemoteError,
            f"Submit to {endpoint} failed after the request was sent ({reason}); "
            "a job may exist — it was not resubmitted",
            {
                "endpoint_id": endpoint,
                "submitted_at": when,
                "hint": (
                    f"Look for a request to {endpoint} made at {when} before running again: "
                    "https://fal.ai/dashboard/requests (or the Platform API "
                    f"GET /v1/models/requests/by-endpoint?endpoint_id={endpoint}); "
                    "if you have it, follow it with: genmedia status "
                    f"{endpoint} <request_id> --wait"
                ),
            },
        )

    # -- handles --------------------------------------------------------------------------

    def handle_for(self, endpoint_id: str, request_id: str) -> JobHandle:
        endpoint = normalize_endpoint(endpoint_id)
        base = f"{self.client.host('queue')}/{app_path(endpoint)}/requests/{request_id}"
        urls = {
            "status_url": base + "/status",
            "response_url": base,
            "cancel_url": base + "/cancel",
        }
        return JobHandle("fal", endpoint, request_id, extra=urls)

    def _urls(self, handle: JobHandle) -> _Urls:
        """The handle's own URLs when they are on the configured queue host, else URLs
        rebuilt from its ids (a job recorded against another host, e.g. a sandbox that
        has since stopped, is looked up on today's queue host instead)."""
        urls = [handle.extra.get(k) for k in URL_KEYS]
        if not (all(urls) and all(self.client.is_fal_origin(str(u)) for u in urls)):
            urls = [
                self.handle_for(handle.endpoint_id, handle.request_id).extra[k] for k in URL_KEYS
            ]
        return _Urls(*map(str, urls))

    # -- status ---------------------------------------------------------------------------

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus:
        urls = self._urls(handle)
        response = self.client.call(
            "GET",
            str(urls.status_url),
            what="Status check failed",
            params={"logs": "1" if logs else "0"},
            headers=self.client.auth_for(str(urls.status_url)),
            parse=True,
            context={"endpoint_id": handle.endpoint_id, "request_id": handle.request_id},
        )
        return parse_status(response.fal_json, handle.request_id)  # type: ignore[attr-defined]

    def watch(
        self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None
    ) -> Iterator[JobStatus]:
        if self.client.options.use_stream:
            for _ in range(STREAM_RECONNECTS):
                outcome = yield from self._stream(handle, logs, deadline)
                if outcome in ("done", "deadline"):
                    return
                if outcome == "unavailable":
                    break
        yield from self._poll(handle, logs, deadline)

    def _poll(self, handle: JobHandle, logs: bool, deadline: float | None) -> Iterator[JobStatus]:
        interval = POLL_START
        last: tuple[Any, ...] | None = None
        while True:
            status = self.status(handle, logs=logs)
            key = (status.status, status.queue_position, tuple(e.key for e in status.logs or ()))
            if key != last:
                last = key
                interval = POLL_RESET
                yield status
            if status.done:
                return
            now = time.monotonic()
            if deadline is not None:
                if now >= deadline:
                    return
                time.sleep(min(interval, deadline - now))
            else:
                time.sleep(interval)
            interval = min(POLL_MAX, interval * POLL_GROWTH)

    def _stream(
        self, handle: JobHandle, logs: bool, deadline: float | None
    ) -> Generator[JobStatus, None, str]:
        """Follow the SSE stream; returns "done", "deadline", "broken" or "unavailable"."""
        import httpx

        urls = self._urls(handle)
        url = str(urls.status_url).split("?", 1)[0].rstrip("/") + "/stream"
        events: queue_mod.Queue[tuple[str, Any]] = queue_mod.Queue()
        holder: dict[str, Any] = {}
        stop = threading.Event()
        headers = {**self.client.auth_for(url), "Accept": "text/event-stream"}
        http = self.client.http

        def reader() -> None:
            try:
                with http.stream(
                    "GET",
                    url,
                    params={"logs": "1" if logs else "0"},
                    headers=headers,
                    timeout=httpx.Timeout(10.0, read=STREAM_READ_TIMEOUT),
                ) as response:
                    holder["response"] = response
                    ctype = response.headers.get("content-type", "")
                    if response.status_code != 200 or "text/event-stream" not in ctype:
                        events.put(("unavailable", response.status_code))
                        return
                    for data in iter_sse(response.iter_lines()):
                        if stop.is_set():
                            return
                        events.put(("event", data))
                events.put(("end", None))
            except Exception as exc:
                events.put(("error", exc))

        thread = threading.Thread(target=reader, name="fal-status-stream", daemon=True)
        thread.start()
        got_event = False
        done = False
        try:
            while True:
                wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
                try:
                    kind, value = events.get(timeout=wait)
                except queue_mod.Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        return "deadline"
                    continue
                if kind == "event":
                    try:
                        status = parse_status(json.loads(value), handle.request_id)
                    except (ValueError, errors.GenmediaError):
                        continue
                    got_event = True
                    done = status.done
                    yield status
                    if status.done:
                        return "done"
                elif kind == "unavailable":
                    return "unavailable"
                else:  # the stream ended or broke before COMPLETED
                    return "broken" if got_event else "unavailable"
        finally:
            stop.set()
            response = holder.get("response")
            # After COMPLETED fal closes the stream and the reader closes its own response:
            # closing it here too would race it (two closes of one pooled connection hand
            # it out twice, seen as TLS "bad record mac" under genmedia batch's threads).
            if response is not None and not done:
                try:
                    response.close()
                except Exception:
                    pass

    # -- result and cancel ------------------------------------------------------------------

    def result(self, handle: JobHandle) -> RunResult:
        import httpx

        client = self.client
        urls = self._urls(handle)
        url = str(urls.response_url)
        headers = client.auth_for(url)
        context = {"endpoint_id": handle.endpoint_id, "request_id": handle.request_id}

        def retry(response: httpx.Response) -> bool:
            # A reply carrying x-fal-request-id is the job's stored answer: final.
            if response.status_code == 429:
                return True
            return (
                response.status_code in RETRY_STATUSES
                and "x-fal-request-id" not in response.headers
            )

        def attempt() -> httpx.Response:
            response = client.http.get(url, headers=headers)
            if response.is_success:
                try:
                    response.fal_json = response.json()  # type: ignore[attr-defined]
                except ValueError:
                    from genmedia_fal.client import BadReply

                    raise BadReply(response) from None
            return response

        from genmedia.http import is_transport_error
        from genmedia_fal.client import BadReply, bad_reply

        try:
            response = retry_call(
                attempt,
                IDEMPOTENT,
                should_retry=retry,
                retry_exception=lambda e: is_transport_error(e) or isinstance(e, BadReply),
                on_retry=client.on_retry("result"),
            )
        except httpx.TransportError as exc:
            raise fal_errors.network_error(exc, url, what="Fetching the result failed") from None
        except BadReply as exc:
            raise bad_reply(exc.response, what="Fetching the result failed") from None
        if not response.is_success:
            raise fal_errors.error_from_response(response, **context)
        data = response.fal_json  # type: ignore[attr-defined]
        return RunResult(
            endpoint_id=handle.endpoint_id,
            request_id=response.headers.get("x-fal-request-id") or handle.request_id,
            result=data if isinstance(data, dict) else {"output": data},
            handle=handle,
        )

    def cancel(self, handle: JobHandle) -> CancelResult:
        """``PUT cancel_url``: 202 ``CANCELLATION_REQUESTED`` is accepted, 400
        ``ALREADY_COMPLETED`` is fal's "too late" (not accepted); any other answer raises."""
        urls = self._urls(handle)
        response = self.client.call(
            "PUT",
            str(urls.cancel_url),
            what="Cancel failed",
            headers={
                **self.client.auth_for(str(urls.cancel_url)),
                "Content-Type": "application/json",
            },
            ok=lambda r: r.status_code == 400,
            context={"endpoint_id": handle.endpoint_id, "request_id": handle.request_id},
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        state = str(answer.get("status") or "OK") if isinstance(answer, dict) else "OK"
        if response.status_code == 400:
            if state == "ALREADY_COMPLETED":
                return CancelResult(accepted=False, host_status=state)
            raise fal_errors.error_from_response(
                response,
                what="Cancel failed",
                endpoint_id=handle.endpoint_id,
                request_id=handle.request_id,
            )
        return CancelResult(accepted=True, host_status=state)
