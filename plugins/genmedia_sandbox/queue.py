"""The queue: jobs on a clock with per-model queue/run times and a concurrency limit.

Everything here runs on the server's event loop. A job waits IN_QUEUE for at
least its queue time and until a slot frees (FIFO per endpoint; ``low`` priority
behind ``normal``), runs IN_PROGRESS for its run time while emitting log lines,
then ends COMPLETED with a stored result (status, body, headers). There is no
FAILED state: failures, cancellations and start timeouts are COMPLETED too.

Every job is also written to the store (:mod:`.store`) at submit and at completion.
A job the store holds but this process does not run (its process exited, e.g. after
``genmedia --sandbox run … --async``) advances by wall-clock time: IN_QUEUE until
``created_at + queue_s``, IN_PROGRESS for ``run_s`` with its log lines, then the first
process that looks at it produces the output and stores it (first completion wins).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from .outcome import iso_now, produce
from .records import Fault, Job, Timing

if TYPE_CHECKING:
    from .state import Sandbox


def app_path(endpoint_id: str) -> str:
    """fal's owner/app rule: ``[namespace/]owner/app`` (workflows and comfy keep 3 segments)."""
    parts = endpoint_id.strip("/").split("/")
    keep = 3 if parts[0] in ("workflows", "comfy") else 2
    return "/".join(parts[:keep])


def new_request_id() -> str:
    """A UUIDv7-shaped id (time-ordered), like fal's."""
    ms = int(time.time() * 1000)
    rand = uuid.uuid4().int & ((1 << 74) - 1)
    value = (
        (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    )
    return str(uuid.UUID(int=value))


class QueueEngine:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.jobs: dict[str, Job] = {}
        self.timings: dict[str | None, Timing] = {None: Timing()}
        self.webhooks: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._waiting: dict[str, list[Job]] = {}
        self._running: dict[str, int] = {}
        self._eligible_at: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._overrides: dict[str, dict[str, Any]] = {}
        self._producing: dict[str, asyncio.Task[None]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    async def close(self) -> None:
        """Stop in order: no new work, cancel running jobs (they stay pending in the store).

        Called on the event loop before it stops, so no task is left to call
        ``asyncio.to_thread`` after the loop's executor has shut down.
        """
        self.closed = True
        tasks = [*self._tasks.values(), *self._producing.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- configuration --------------------------------------------------------------
    def timing(self, endpoint_id: str) -> Timing:
        return self.timings.get(endpoint_id) or self.timings[None]

    def set_timing(self, endpoint_id: str | None, **changes: Any) -> Timing:
        with self._lock:
            base = self.timings.get(endpoint_id) or Timing(
                **{k: getattr(self.timings[None], k) for k in ("queue_s", "run_s", "log_lines")}
            )
            for key, value in changes.items():
                if value is not None:
                    setattr(base, key, value)
            self.timings[endpoint_id] = base
            return base

    def reset(self) -> None:
        for task in [*self._tasks.values(), *self._producing.values()]:
            task.cancel()
        with self._lock:
            self._producing.clear()
            self.jobs.clear()
            self.timings = {None: Timing()}
            self.webhooks.clear()
            self._waiting.clear()
            self._running.clear()
            self._eligible_at.clear()
            self._tasks.clear()
            self._changed.clear()
            self._overrides.clear()

    # -- notifications ---------------------------------------------------------------
    def _notify(self, job: Job) -> None:
        event = self._changed.pop(job.request_id, None)
        if event is not None:
            event.set()

    async def wait_change(self, job: Job, timeout: float) -> bool:
        """Wait until the job (or its queue position) changes; False on timeout."""
        event = self._changed.setdefault(job.request_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # -- submit ----------------------------------------------------------------------
    def submit(
        self,
        endpoint_id: str,
        payload: Any,
        *,
        headers: dict[str, str],
        webhook_url: str | None,
        job_faults: list[Fault],
        sync: bool = False,
    ) -> Job:
        timing = self.timing(endpoint_id)
        now = time.monotonic()
        job = Job(
            request_id=new_request_id(),
            endpoint_id=endpoint_id,
            app_path=app_path(endpoint_id),
            input=payload,
            priority="low" if headers.get("x-fal-queue-priority") == "low" else "normal",
            webhook_url=webhook_url,
            created_at=time.time(),
            runner_hint=headers.get("x-fal-runner-hint"),
            headers={k: v for k, v in headers.items() if k.startswith("x-fal-")},
            sync=sync,
        )
        override: dict[str, Any] = {}
        queue_s, run_s = timing.queue_s, timing.run_s
        for fault in job_faults:
            if fault.kind == "queue_time":
                queue_s = float(fault.params.get("seconds", 1.0))
            elif fault.kind == "run_time":
                run_s = float(fault.params.get("seconds", 1.0))
            else:
                override[fault.kind] = fault.params
        override["run_s"] = run_s
        job.queue_s, job.run_s, job.log_lines = queue_s, run_s, max(1, timing.log_lines)
        raw_timeout = headers.get("x-fal-request-timeout")
        if raw_timeout:
            try:
                job.request_timeout = float(raw_timeout)
            except ValueError:
                job.request_timeout = None
        with self._lock:
            self.jobs[job.request_id] = job
            self._overrides[job.request_id] = override
            self._eligible_at[job.request_id] = now + queue_s
            queue = self._waiting.setdefault(endpoint_id, [])
            if job.priority == "low":
                queue.append(job)
            else:
                pos = next((i for i, j in enumerate(queue) if j.priority == "low"), len(queue))
                queue.insert(pos, job)
        loop = asyncio.get_running_loop()
        if queue_s > 0:
            loop.call_later(queue_s, self._pump, endpoint_id)
        if job.request_timeout is not None:
            loop.call_later(job.request_timeout, self._start_deadline, job)
        self.sandbox.store.save_job(attrs.asdict(job))
        self._pump(endpoint_id)
        return job

    def waiting(self, endpoint_id: str) -> int:
        """How many requests of this endpoint wait in this process's queue."""
        return len(self._waiting.get(endpoint_id, []))

    # -- lookup ----------------------------------------------------------------------
    def expired(self, job: Job) -> bool:
        ttl = self.sandbox.result_ttl
        return job.completed_at is not None and time.time() - job.completed_at > ttl

    async def find(self, request_id: str) -> Job | None:
        """The job, from this process or the store (advanced by wall clock); None if unknown
        or its result has expired (fal keeps results for a limited time)."""
        job = self.jobs.get(request_id)
        if job is None:
            data = self.sandbox.store.load_job(request_id)
            if data is None:
                return None
            known = {f.name for f in attrs.fields(Job)}  # a store written by another version
            job = Job(**{k: v for k, v in data.items() if k in known})
            if job.status == "COMPLETED":
                self.jobs[request_id] = job
            else:
                job = await self._advance(job)
        if self.expired(job):
            return None
        return job

    async def _advance(self, job: Job) -> Job:
        """A job nobody runs here: its state from the wall clock (produced when due)."""
        now = time.time()
        start = job.created_at + job.queue_s
        if now < start:
            job.status = "IN_QUEUE"
            return job
        job.status, job.started_at = "IN_PROGRESS", start
        step = job.run_s / job.log_lines if job.run_s > 0 else 0.0
        due = job.log_lines if step == 0 else min(job.log_lines, int((now - start) / step) + 1)
        job.logs = [_log(m, _iso(start + i * step)) for i, m in enumerate(_steps(job)[:due])]
        if now < start + job.run_s:
            return job
        task = self._producing.get(job.request_id)
        if task is None:
            self.jobs[job.request_id] = job
            task = asyncio.get_running_loop().create_task(self._produce(job, {}))
            self._producing[job.request_id] = task
            task.add_done_callback(lambda _: self._producing.pop(job.request_id, None))
        await asyncio.shield(task)
        return self.jobs.get(job.request_id, job)

    def queue_position(self, job: Job) -> int:
        queue = self._waiting.get(job.endpoint_id, [])
        try:
            return queue.index(job)
        except ValueError:
            return 0

    def _limit(self, endpoint_id: str) -> int | None:
        return self.timing(endpoint_id).concurrency

    def _pump(self, endpoint_id: str) -> None:
        if self.closed:
            return
        queue = self._waiting.get(endpoint_id, [])
        limit = self._limit(endpoint_id)
        now = time.monotonic()
        started = False
        while queue:
            if limit is not None and self._running.get(endpoint_id, 0) >= limit:
                break
            head = queue[0]
            if self._eligible_at.get(head.request_id, 0) > now:
                break
            queue.pop(0)
            self._running[endpoint_id] = self._running.get(endpoint_id, 0) + 1
            self._tasks[head.request_id] = asyncio.get_running_loop().create_task(self._run(head))
            started = True
        if started:
            for job in queue:
                self._notify(job)

    def _start_deadline(self, job: Job) -> None:
        if job.status != "IN_QUEUE":
            return
        self._dequeue(job)
        job.error, job.error_type = "Request timed out", "request_timeout"
        self._finish(
            job,
            504,
            {"detail": "Request timed out", "error_type": "request_timeout"},
            {"x-fal-request-timeout-type": "user", "x-fal-error-type": "request_timeout"},
        )

    def _dequeue(self, job: Job) -> None:
        queue = self._waiting.get(job.endpoint_id, [])
        if job in queue:
            queue.remove(job)
            for other in queue:
                self._notify(other)

    # -- running ---------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        override = self._overrides.get(job.request_id, {})
        timing = self.timing(job.endpoint_id)
        job.status, job.started_at = "IN_PROGRESS", time.time()
        self._notify(job)
        try:
            lines = max(1, timing.log_lines)
            run_s = float(override.get("run_s", timing.run_s))
            for message in _steps(job, lines):
                job.logs.append(_log(message, iso_now()))
                self._notify(job)
                if run_s > 0:
                    await asyncio.sleep(run_s / lines)
            await self._produce(job, override)
        except asyncio.CancelledError:
            if job.status != "COMPLETED" and not self.closed:
                self._cancelled(job)
            raise
        except RuntimeError:
            # the interpreter is exiting under us (no more executor threads): the job stays
            # pending in the store and a later process finishes it by the clock
            if self.closed or not threading.main_thread().is_alive():
                return
            raise
        finally:
            self._running[job.endpoint_id] = max(0, self._running.get(job.endpoint_id, 1) - 1)
            self._tasks.pop(job.request_id, None)
            if not self.closed:
                self._pump(job.endpoint_id)

    async def _produce(self, job: Job, override: dict[str, Any]) -> None:
        self._finish(job, *await produce(self.sandbox, job, override))

    def _finish(self, job: Job, status: int, body: Any, headers: dict[str, str]) -> None:
        if self.jobs.get(job.request_id) is not job:
            return  # forgotten by a reset while it ran: it must not come back
        job.result_status, job.result_body = status, body
        job.result_headers = headers
        job.status, job.completed_at = "COMPLETED", time.time()
        won = self.sandbox.store.complete_job(attrs.asdict(job))
        if won.get("completed_at") != job.completed_at:  # another process completed it first
            for key in ("result_status", "result_body", "result_headers", "completed_at",
                        "error", "error_type", "cancelled", "logs", "inference_time"):  # fmt: skip
                setattr(job, key, won.get(key, getattr(job, key)))
            self._notify(job)
            return
        self._notify(job)
        if job.webhook_url:
            from .webhooks import post_webhook

            post_webhook(self.sandbox.store, job, self.webhooks)

    def _cancelled(self, job: Job) -> None:
        job.cancelled = True
        job.error, job.error_type = "Request was cancelled", "client_cancelled"
        self._finish(
            job,
            499,
            {"detail": "Request was cancelled", "error_type": "client_cancelled"},
            {"x-fal-error-type": "client_cancelled"},
        )

    def cancel(self, job: Job) -> tuple[int, str]:
        if job.status == "COMPLETED":
            return 400, "ALREADY_COMPLETED"
        if job.request_id not in self.jobs:  # run by nobody here: cancel it in the store
            self.jobs[job.request_id] = job
            self._cancelled(job)
        elif job.status == "IN_QUEUE":
            self._dequeue(job)
            self._cancelled(job)
        else:
            task = self._tasks.get(job.request_id)
            if task is not None:
                task.cancel()
        return 202, "CANCELLATION_REQUESTED"


def _steps(job: Job, lines: int | None = None) -> list[str]:
    lines = lines or job.log_lines
    steps = [f"Running {job.endpoint_id} (genmedia sandbox)"]
    return steps + [f"step {i}/{lines - 1}" for i in range(1, lines)]


def _log(message: str, timestamp: str) -> dict[str, Any]:
    return {"message": message, "level": "INFO", "source": "USER", "timestamp": timestamp}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
