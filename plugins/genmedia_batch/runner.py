"""Running a batch: ``--concurrency`` worker threads, one process, one connection pool.

Each job goes through the same path as ``genmedia run``: ``genmedia_prepare_request``
(uploads, deduplicated across the batch by content), ``genmedia_execute`` (submit, the
``genmedia_job_submitted`` hook that records the request id, the status stream, the
result, ``genmedia_job_finished``) and the output sinks (``--download``, the run journal).
Every request, submitted or re-attached, carries the batch id (``RunRequest.batch``), so
the run journal records which batch each run belongs to.

Before each submit a worker passes the :class:`Gate`: the submission rate limit and one
back-off shared by every worker — any 429 seen on the shared HTTP client (an httpx
response hook) holds all submits for its ``Retry-After``.

Stopping (Ctrl-C, SIGTERM, ``batch cancel``): no new job is claimed; a job being
submitted finishes its submit and its request id is committed; workers waiting on jobs
are interrupted (their jobs go on and are re-attached by ``batch resume``).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from genmedia import errors
from genmedia_batch import store as st
from genmedia_batch.display import Counts, Display
from genmedia_batch.lines import JobError, JobLine, Printer
from genmedia_batch.plan import typed_request
from genmedia_batch.plugin import RUNNER
from genmedia_batch.shared import Gate, UploadModels
from genmedia_batch.sources import JobSpec

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import JobHandle, RunRequest


@attrs.define
class Settings:
    """How to run (kept with the batch, so ``batch resume`` runs it the same way)."""

    concurrency: int = 4
    rate: float = 20.0
    max_cost: float | None = None
    retry_failed: bool = False
    timeout: float | None = None
    #: values of the ``run`` options other plugins add (``--download`` …)
    extra: dict[str, Any] = attrs.field(factory=dict)


class Runner:
    def __init__(
        self, ctx: AppContext, store: st.Store, batch_id: str, settings: Settings, printer: Printer
    ) -> None:
        self.ctx, self.store, self.batch_id = ctx, store, batch_id
        self.settings, self.printer = settings, printer
        self.gate = Gate(settings.rate)
        self.models = UploadModels(ctx)
        self.stop = threading.Event()
        self.all_done = threading.Event()
        self.active = 0
        self.stop_reason: str | None = None
        self.lock = threading.Lock()
        self.work: Iterator[st.JobRow] = iter(())
        self.attempted: set[int] = set()
        self.requests: dict[int, int] = {}  # id(request) -> line
        self.waiting: dict[int, bool] = {}  # thread ident -> interruptible (waiting on a job)
        self.spent = store.spent(batch_id)
        self.submitted = self.reattached = 0
        self.counts = Counts(0)
        self.running: set[int] = set()

    # -- the hook side ---------------------------------------------------------------

    def on_submitted(self, handle: JobHandle, request: RunRequest) -> None:
        """``genmedia_job_submitted``: commit the request id before any waiting."""
        line = self.requests.get(id(request))
        if line is None:
            return
        self.store.submitted(self.batch_id, line, handle.provider, handle.request_id)
        with self.lock:
            self.waiting[threading.get_ident()] = True
            if line not in self.running:
                self.running.add(line)
                self.counts.add(running=1)

    def _ended(self, line: int, **changes: int) -> None:
        with self.lock:
            if line in self.running:
                self.running.discard(line)
                changes["running"] = -1
        self.counts.add(**changes)

    # -- running ---------------------------------------------------------------------

    def run(self) -> None:
        states: tuple[str, ...] = (st.PENDING,)
        if self.settings.retry_failed:
            states = (st.PENDING, st.FAILED, st.UNKNOWN)
        reattach = self.store.jobs(self.batch_id, (st.SUBMITTED,))
        self.work = _chain(reattach, self.store.jobs(self.batch_id, states))
        batch = self.store.batch(self.batch_id)
        if batch is not None:
            self.counts.todo = sum(batch.counts[s] for s in (*states, st.SUBMITTED))
        self.ctx.stash[RUNNER] = self
        hooks = self.ctx.http.event_hooks
        hooks.setdefault("response", []).append(self.gate.on_response)
        self.ctx.http.event_hooks = hooks
        threads = [
            threading.Thread(target=self._worker, name=f"batch-{i}", daemon=True)
            for i in range(self.settings.concurrency)
        ]
        self.active = len(threads)
        for thread in threads:
            thread.start()
        try:
            # an Event, not Thread.join: a join cut by Ctrl-C can leave is_alive() wrong
            with Display(self.ctx, self.counts):
                while not self.all_done.wait(0.2):
                    pass
        except KeyboardInterrupt:
            self.halt("interrupted")
            self._drain()
            raise
        finally:
            del self.ctx.stash[RUNNER]

    def halt(self, reason: str) -> None:
        with self.lock:
            self.stop_reason = self.stop_reason or reason
        self.stop.set()

    def _drain(self, limit: float = 15.0) -> None:
        """Let submits finish (their ids are committed), interrupt the waits."""
        end = time.monotonic() + limit
        while not self.all_done.is_set() and time.monotonic() < end:
            with self.lock:
                for ident, interruptible in list(self.waiting.items()):
                    if interruptible:
                        self.waiting[ident] = False
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt)
                        )
            self.all_done.wait(0.05)

    def _worker(self) -> None:
        try:
            while not self.stop.is_set():
                with self.lock:
                    row = next(self.work, None)
                    if row is None:
                        return
                    if row.line in self.attempted:
                        continue
                    self.attempted.add(row.line)
                try:
                    self._one(row)
                finally:
                    with self.lock:
                        self.waiting.pop(threading.get_ident(), None)
        except KeyboardInterrupt:
            return
        finally:
            with self.lock:
                self.waiting.pop(threading.get_ident(), None)
                self.active -= 1
                if self.active <= 0:
                    self.all_done.set()

    def _one(self, row: st.JobRow) -> None:
        from genmedia.types import RunRequest

        ctx = self.ctx
        extra = job_extra(self.settings.extra, row)
        handle = None
        try:
            provider, _schema = self.models.get(row.endpoint_id)
            if row.state == st.SUBMITTED and row.request_id:
                handle = provider.handle_for(row.endpoint_id, row.request_id)
                request = RunRequest(endpoint_id=row.endpoint_id, input=dict(row.input))
                request.extra = extra
                with self.lock:
                    self.waiting[threading.get_ident()] = True
                    self.reattached += 1
            else:
                spec = JobSpec(row.line, row.key, row.endpoint_id, dict(row.input))
                request = typed_request(ctx, self.models, spec, upload=True)
                request.options.dry_run = False
                request.extra = extra
                if not self._may_submit(row):
                    return
            request.batch = self.batch_id
            request.options = attrs.evolve(
                request.options, wait=True, timeout=self.settings.timeout, dry_run=False
            )
            self.requests[id(request)] = row.line
            try:
                result = ctx.pm.hook.genmedia_execute(
                    request=request, provider=provider._provider, handle=handle, ctx=ctx
                )
            finally:
                self.requests.pop(id(request), None)
            from genmedia import pipeline

            doc, code = pipeline.finish(ctx, result, extra)
        except KeyboardInterrupt:
            raise
        except errors.Interrupted:
            raise KeyboardInterrupt from None
        except Exception as exc:
            self._failed(row, exc)
            return
        files = [f.path for f in result.saved_files] or None
        failures = [
            {"url": f.url, "json_path": f.json_path, "error": f.error} for f in result.save_failures
        ] or None
        error = None
        if code:
            error = JobError("An output sink failed", {"sink_errors": doc.get("sink_errors"),
                             "download_failures": failures}, code)  # fmt: skip
        self._ended(row.line, done=1)
        self.store.finished(
            self.batch_id, row.line, st.COMPLETED, result=result.result, files=files,
            error=attrs.asdict(error) if error else None,
            exit_code=error.exit_code if error else None,
        )  # fmt: skip
        self.printer.job(
            JobLine(row.line, row.key, row.endpoint_id, result.request_id, st.COMPLETED,
                    result.result, files, failures, error)
        )  # fmt: skip

    def _may_submit(self, row: st.JobRow) -> bool:
        """Budget, gate, claim: True once the row is ``submitting`` (committed)."""
        cost = row.estimate
        limit = self.settings.max_cost
        if limit is not None and cost is not None:
            with self.lock:
                if self.spent + cost > limit + 1e-9:
                    self.stop_reason = self.stop_reason or "budget"
                    self.stop.set()
                    return False
                self.spent += cost
        if not self.gate.wait(self.stop):
            self._refund(cost)
            return False
        if not self.store.claim(self.batch_id, row.line):
            self._refund(cost)
            return False
        with self.lock:
            self.submitted += 1
        return True

    def _refund(self, cost: float | None) -> None:
        if cost is not None and self.settings.max_cost is not None:
            with self.lock:
                self.spent -= cost

    def _failed(self, row: st.JobRow, exc: BaseException) -> None:
        report = self.ctx.pm.hook.genmedia_format_error(error=exc, ctx=self.ctx)
        from genmedia.redact import redact_value

        details = redact_value(report.details) if report.details is not None else None
        error = JobError(report.error, details, report.exit_code)
        current = self.store.job(self.batch_id, row.line)
        batch = self.store.batch(self.batch_id)
        state = st.CANCELLED if batch is not None and batch.state == "cancelled" else st.FAILED
        if current is not None and current.state == st.SUBMITTING:
            # the submit did not return a request id: did it reach the host?
            state = st.UNKNOWN if "may exist" in report.error else st.FAILED
        request_id = current.request_id if current is not None else None
        goes_on = current is not None and request_id and self._goes_on(row, current, exc)
        if state != st.CANCELLED and goes_on:
            # the job exists and the wait broke (the network, the host): not a failure of
            # the job; it stays submitted and a resume re-attaches to it
            self.store.note(self.batch_id, row.line, attrs.asdict(error), error.exit_code)
            self._ended(row.line, failed=1)
            self.printer.job(
                JobLine(row.line, row.key, row.endpoint_id, request_id, st.SUBMITTED, error=error)
            )
            return
        self.store.finished(
            self.batch_id, row.line, state, error=attrs.asdict(error), exit_code=error.exit_code
        )
        self._ended(row.line, failed=1)
        self.printer.job(
            JobLine(row.line, row.key, row.endpoint_id, request_id, state, error=error)
        )

    def _goes_on(self, row: st.JobRow, current: st.JobRow, exc: BaseException) -> bool:
        """Whether the job outlived the error (its wait broke, not the job): asked of the
        provider; if it cannot say, the job is assumed to go on (never resubmitted)."""
        if isinstance(exc, errors.TimeoutExpired):
            return False
        try:
            provider, _ = self.models.get(row.endpoint_id)
            handle = provider.handle_for(row.endpoint_id, str(current.request_id))
            return not provider.status(handle, logs=False).done
        except Exception:
            return True


def _chain(*parts: Iterator[st.JobRow]) -> Iterator[st.JobRow]:
    for part in parts:
        yield from part


def job_extra(extra: dict[str, Any], row: st.JobRow) -> dict[str, Any]:
    """The run options for one job: ``{line}`` and ``{id}`` filled in ``--download``."""
    values = dict(extra)
    template = values.get("download")
    if isinstance(template, str):
        values["download"] = template.replace("{line}", str(row.line)).replace(
            "{id}", safe_key(row.key) or str(row.line)
        )
    return values


def safe_key(key: str | None) -> str | None:
    if key is None:
        return None
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in key).strip("._")
    return cleaned[:100] or None
