"""What the history hooks do: record jobs in the journal, best effort.

Every write goes through :func:`_write`: a journal that is locked, read-only, corrupt or
from a newer genmedia becomes one warning on stderr and the run carries on. State is kept
in ``ctx.stash`` (one :class:`~genmedia.context.AppContext` per invocation), never per process, so
in-process invocations (tests, embedders) do not share it.

Off the critical path: an invocation writes through one kept-open connection
(:meth:`Journal.keep_open`), closed when the invocation ends (``ctx.call_on_close``), so a
run pays one fdatasync for its submit row (synced before the wait starts: the journal's
promise) and the WAL checkpoint when the connection closes, nothing per status change.
The host's COMPLETED is not written when it arrives — that would sit between the job's
completion and the result GET — but with the next write of that job: the result
(:func:`handle_result`), how the wait ended (:func:`job_finished`), or at the end of the
invocation.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from genmedia import truthy
from genmedia.context import StashKey

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.errors import UsageError
    from genmedia.types import JobHandle, JobStatus, RunRequest, RunResult
    from genmedia_history.journal import Journal, JournalError
    from genmedia_history.records import JobRecord

T = TypeVar("T")

NO_HISTORY_ENV = "GENMEDIA_NO_HISTORY"
DEFAULT_BUSY_TIMEOUT = 5.0
#: what to do when a reference names several jobs (see Journal.get)
AMBIGUOUS_HINT = "give more of the request id, or all of it"


def ambiguous_reference(exc: JournalError) -> UsageError:
    """The usage error for a reference that names several jobs (``exc.reason == "ambiguous"``)."""
    from genmedia import errors

    return errors.UsageError(str(exc), {"hint": AMBIGUOUS_HINT})


@attrs.define
class State:
    """The journal's state for one invocation."""

    off: bool = False  # --no-history
    #: a write failed (e.g. locked): progress updates are skipped, the rest still tried.
    failed: bool = False
    #: the journal cannot be written at all (corrupt, read-only, newer schema).
    dead: bool = False
    #: last (status, error) recorded per request id, so polls do not rewrite the row.
    seen: dict[str, tuple[str, str | None]] = attrs.field(factory=dict)
    #: this invocation's journal, its connection kept open until the invocation ends.
    journal: Journal | None = None
    #: state changes not written yet (the host's COMPLETED), per request id: written with
    #: the job's next write or when the invocation ends.
    pending: dict[str, tuple[JobHandle, dict[str, Any]]] = attrs.field(factory=dict)
    #: the batch of each job submitted in a batch (``RunRequest.batch``), per request id.
    batches: dict[str, str] = attrs.field(factory=dict)


STATE: StashKey[State] = StashKey()
_OPENING = threading.Lock()


def state(ctx: AppContext) -> State:
    """This invocation's journal state, kept in ``ctx.stash``."""
    found = ctx.stash.get(STATE, None)
    if found is None:  # no throwaway State on every status update
        found = ctx.stash.setdefault(STATE, State())
    return found


def journal_for(ctx: AppContext) -> Journal:
    """The journal: config ``plugins.history.path``, else ``<data dir>/history.db``."""
    from genmedia_history.journal import Journal

    config = ctx.settings.plugin_config("history")
    path = config.get("path")
    location = Path(str(path)).expanduser() if path else ctx.settings.data_dir / "history.db"
    try:
        timeout = float(config.get("busy_timeout", DEFAULT_BUSY_TIMEOUT))
    except (TypeError, ValueError):
        timeout = DEFAULT_BUSY_TIMEOUT
    return Journal(location, busy_timeout=max(timeout, 0.0))


def recording(ctx: AppContext) -> bool:
    """Whether this invocation records: not ``--no-history``, ``GENMEDIA_NO_HISTORY`` or
    config ``plugins.history.enabled = false``, and the journal still usable."""
    st = state(ctx)
    if st.off or st.dead or truthy(os.environ.get(NO_HISTORY_ENV)):
        return False
    return ctx.settings.plugin_config("history").get("enabled", True) is not False


def warning_for(exc: JournalError) -> str:
    path = exc.path
    if exc.reason == "locked":
        why = "is locked by another process"
    elif exc.reason == "readonly":
        why = "is read-only"
    elif exc.reason == "corrupt":
        why = (
            f"is not a valid database ({exc}); "
            f"move it away to start a new one: mv {path} {path}.bad"
        )
    elif exc.reason == "newer":
        why = f"was written by a newer genmedia ({exc})"
    else:
        why = f"cannot be opened ({exc})"
    return f"the run journal {path} {why}; this job is not recorded (the run goes on)"


def _journal(ctx: AppContext) -> Journal:
    """This invocation's journal: one connection for all its writes, closed (pending
    changes written first) when the invocation ends (``ctx.call_on_close``: also when the
    first write comes from a worker thread, as in ``batch``)."""
    st = state(ctx)
    with _OPENING:  # two batch workers' first writes: one journal
        if st.journal is None:
            st.journal = journal_for(ctx).keep_open()
            ctx.call_on_close(lambda: finish(ctx))
        return st.journal


def finish(ctx: AppContext) -> None:
    """The invocation is over: write what is pending and close the connection (closed
    even when the write fails or is interrupted)."""
    st = state(ctx)
    journal = st.journal
    if journal is None:
        return
    try:
        if st.pending and recording(ctx):
            _write(ctx, lambda j: _flush(j, ctx, list(st.pending)))
    finally:
        st.pending.clear()
        st.journal = None
        journal.close()


def _flush(j: Journal, ctx: AppContext, request_ids: list[str]) -> bool:
    """Write the pending changes of these jobs (inside the caller's transaction)."""
    st = state(ctx)
    with j.batch():
        for request_id in request_ids:
            held = st.pending.pop(request_id, None)
            if held is not None:
                _update_or_record(j, ctx, held[0], held[1])
    return True


def _write(ctx: AppContext, action: Callable[[Journal], T]) -> T | None:
    """Run one journal write; any failure is a warning, never an error."""
    from genmedia_history.journal import JournalError

    st = state(ctx)
    try:
        done = action(_journal(ctx))
        st.failed = False
        return done
    except JournalError as exc:
        if exc.reason in ("locked",):
            st.failed = True
        else:
            st.dead = True
        ctx.warn(warning_for(exc))
    except Exception as exc:
        if ctx.debug:
            raise
        st.failed = True
        ctx.warn(f"the run journal could not record this job ({type(exc).__name__}: {exc})")
    return None


# --------------------------------------------------------------------------- hooks


def job_submitted(handle: JobHandle, request: RunRequest, ctx: AppContext) -> None:
    if not recording(ctx):
        return
    if request.batch is not None:
        state(ctx).batches[handle.request_id] = request.batch
    _record_handle(ctx, handle, request=request)


def _record_handle(
    ctx: AppContext,
    handle: JobHandle,
    *,
    request: RunRequest | None = None,
    input: Mapping[str, Any] | None = None,
) -> int | None:
    from genmedia.serialization import unstructure

    if request is not None:
        input = request.input
    uploads = [unstructure(u) for u in request.uploads] if request is not None else None
    return _write(ctx, lambda j: _record(j, ctx, handle, input=input, uploads=uploads))


def _record(
    j: Journal,
    ctx: AppContext,
    handle: JobHandle,
    *,
    input: Mapping[str, Any] | None = None,
    uploads: list[Any] | None = None,
) -> int:
    """Insert the job's row from its handle: ``extra`` whole, with this invocation's marks
    and command words (what a later lookup compares and its hints start with)."""
    return j.record_job(
        provider=handle.provider,
        endpoint_id=handle.endpoint_id,
        request_id=handle.request_id,
        input=input or None,
        uploads=uploads or None,
        extra=handle.extra,
        submitted_at=handle.submitted_at,
        marks=ctx.marks,
        invocation=ctx.invocation,
        batch=state(ctx).batches.get(handle.request_id),
    )


def _update_or_record(
    j: Journal,
    ctx: AppContext,
    handle: JobHandle,
    changes: dict[str, Any],
    *,
    input: Mapping[str, Any] | None = None,
) -> bool:
    """Update the row; if the first write was lost, record the job now and update it."""
    if j.update_status(handle.provider, handle.request_id, **changes):
        return True
    if j.get(handle.request_id) is None:
        _record(j, ctx, handle, input=input)
        return j.update_status(handle.provider, handle.request_id, **changes)
    return False


HOST_STATES = {"IN_QUEUE": "in_queue", "IN_PROGRESS": "in_progress"}


def job_progress(handle: JobHandle, status: JobStatus, ctx: AppContext) -> None:
    st = state(ctx)
    if not recording(ctx):
        return
    # COMPLETED without an error changes only host_status: the row is completed when the
    # result is recorded (fetching it may still fail).
    new = ("failed" if status.error else None) if status.done else HOST_STATES.get(status.status)
    key = (new or status.status, status.error)
    if st.seen.get(handle.request_id) == key:
        return
    if st.failed and not status.done and handle.request_id in st.seen:
        return  # the journal is struggling: only try the state changes that matter
    st.seen[handle.request_id] = key
    started = time.time() if status.status == "IN_PROGRESS" else None
    kwargs: dict[str, Any] = {
        "status": new,
        "host_status": status.status,
        "started_at": started,
        "error": status.error,
        "error_type": status.error_type,
    }
    if status.done and new is None:
        # completed: the result GET comes next and must not wait for the journal; the
        # result's own write (or the invocation's end) records this
        st.pending[handle.request_id] = (handle, kwargs)
        _journal(ctx)  # so that the end of the invocation writes it
        return

    def update(j: Journal) -> bool:
        with j.batch():
            _flush(j, ctx, [handle.request_id])
            return _update_or_record(j, ctx, handle, kwargs)

    _write(ctx, update)


def job_finished(
    handle: JobHandle,
    request: RunRequest,
    outcome: str,
    error: BaseException | None,
    ctx: AppContext,
) -> None:
    """A wait ended without a result: the row says how (a completed job is recorded with
    its result and files by :func:`handle_result`, after the sinks)."""
    if error is None or not recording(ctx):
        return
    details = getattr(error, "details", None)
    details = details if isinstance(details, dict) else {}
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    error_type = details.get("error_type") or type(error).__name__
    input = request.input or None

    def update(j: Journal) -> bool:
        changes = {"status": outcome, "error": message, "error_type": error_type}
        with j.batch():  # with the host's COMPLETED, if that came first
            _flush(j, ctx, [handle.request_id])
            return _update_or_record(j, ctx, handle, changes, input=input)

    _write(ctx, update)


def handle_result(result: RunResult, ctx: AppContext) -> None:
    if not recording(ctx):
        return
    from genmedia.serialization import unstructure
    from genmedia_history.records import file_record

    files = [file_record(unstructure(f)) for f in result.saved_files]
    failures = [unstructure(f) for f in result.save_failures] or None
    handle = result.handle
    # the row becomes completed (host status included): nothing pending is left to write
    state(ctx).pending.pop(result.request_id, None)
    row: dict[str, Any] = {"result": result.result, "files": files, "download_failures": failures}

    def complete(j: Journal) -> bool:
        provider = handle.provider if handle is not None else None
        if provider is None:
            known = j.get(result.request_id)
            provider = known.provider if known is not None else "unknown"
        if j.complete(provider, result.request_id, **row):
            return True
        j.record_job(
            provider=provider,
            endpoint_id=result.endpoint_id,
            request_id=result.request_id,
            input=result.input or None,
            extra=handle.extra if handle else None,
            submitted_at=handle.submitted_at if handle else None,
            marks=ctx.marks,
            invocation=ctx.invocation,
            batch=state(ctx).batches.get(result.request_id),
        )
        return j.complete(provider, result.request_id, **row)

    _write(ctx, complete)


def find_job(reference: str, ctx: AppContext) -> JobHandle | None:
    from genmedia.types import JobHandle
    from genmedia_history.journal import JournalError

    journal = journal_for(ctx)
    if not journal.exists:
        return None
    try:
        job = journal.get(reference)
    except JournalError as exc:
        if exc.reason == "ambiguous":
            raise ambiguous_reference(exc) from None
        ctx.warn(f"the run journal {exc.path} cannot be read ({exc})")
        return None
    if job is None:
        return None
    warning = marks_mismatch(job, ctx)
    if warning:
        ctx.warn(warning)
    return JobHandle(
        provider=job.provider,
        endpoint_id=job.endpoint_id,
        request_id=job.request_id,
        submitted_at=job.submitted_at,
        extra=dict(job.extra),
    )


def marks_mismatch(job: JobRecord, ctx: AppContext) -> str | None:
    """A warning when ``job`` was recorded under other output marks than this
    invocation's (``Settings.marks``: e.g. a plugin's global option that points genmedia
    at another host), saying how to reach it: the recorded command words."""
    from genmedia.records import marks_text, same_marks

    if same_marks(job.marks, ctx.marks):
        return None
    return (
        f"job {job.request_id} was recorded under marks {marks_text(job.marks)} but this"
        f" invocation has {marks_text(ctx.marks)}: rerun with the same global options:"
        f" {job.invocation or 'genmedia'} status {job.request_id}"
    )
