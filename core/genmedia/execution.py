"""Execution: the core's ``genmedia_execute`` — submit (or reattach), wait, fetch — and
``genmedia_job_finished`` with how it ended. ``run`` and ``status`` both come through
:func:`execute`, so they wait the same way.
"""

from __future__ import annotations

import time
from typing import Any

from genmedia import errors
from genmedia.context import AppContext
from genmedia.plugins import split_failures
from genmedia.provider import Provider
from genmedia.types import JobHandle, JobStatus, LogEntry, RunRequest, RunResult


def execute(
    ctx: AppContext, provider: Provider, request: RunRequest, handle: JobHandle | None = None
) -> RunResult:
    """The core's ``genmedia_execute``: :func:`start` (submit unless ``handle`` names an
    existing job, announce), wait (or only fetch, when ``request.options.wait`` is false),
    and tell ``genmedia_job_finished`` how it ended."""
    handle = start(ctx, provider, request, handle)
    try:
        if request.options.wait:
            result = wait_for_result(ctx, provider, handle, request)
        else:
            result = fetch_result(provider, handle, request, [])
    except BaseException as exc:
        job_finished(ctx, handle, request, exc)
        raise
    job_finished(ctx, handle, request, None)
    return result


def start(
    ctx: AppContext, provider: Provider, request: RunRequest, handle: JobHandle | None = None
) -> JobHandle:
    """Submit (unless ``handle`` names an existing job) and :func:`announce`; ``run --async``
    ends here, :func:`execute` goes on to wait. Ctrl-C while announcing stops the job as
    Ctrl-C while waiting does (cancelling it with ``--cancel-on-interrupt``), and an error
    there is told to ``genmedia_job_finished``."""
    reattached = handle is not None
    if handle is None:
        handle = submit(ctx, provider, request)
    try:
        try:
            announce(ctx, handle, request, reattached=reattached)
        except KeyboardInterrupt:
            raise _stopped(
                ctx, provider, handle, request, errors.Interrupted("Interrupted")
            ) from None
    except BaseException as exc:
        job_finished(ctx, handle, request, exc)
        raise
    return handle


def submit(ctx: AppContext, provider: Provider, request: RunRequest) -> JobHandle:
    """``provider.submit``; Ctrl-C during it says that a job may exist."""
    try:
        return provider.submit(request)
    except KeyboardInterrupt:
        raise errors.Interrupted(
            f"Interrupted while submitting to {request.endpoint_id}: a job may exist",
            {
                "endpoint_id": request.endpoint_id,
                "hint": "the submit request may have reached the host before Ctrl-C; check "
                "your requests on the provider's dashboard before running again",
            },
        ) from None


def announce(
    ctx: AppContext, handle: JobHandle, request: RunRequest, *, reattached: bool = False
) -> None:
    """The request id, the moment it exists: remembered for any later error (which then
    carries ``details.request_id`` and ``details.next``), streamed as a ``submitted``
    event with ``--events`` in JSON mode, a line on stderr in pretty mode (not when
    reattaching); then ``genmedia_job_submitted``."""
    ctx.current_job = handle
    if reattached:
        pass  # the user named the job: nothing new to announce
    elif ctx.json_mode:
        ctx.event(
            "submitted",
            endpoint_id=handle.endpoint_id,
            request_id=handle.request_id,
            next=resume_command(handle, ctx),
        )
    else:
        from genmedia.output import esc, stderr_console

        stderr_console(ctx).print(
            f"[dim]submitted[/] {esc(handle.endpoint_id)} [bold]{esc(handle.request_id)}[/]",
            markup=True,
        )
    results = ctx.pm.hook.genmedia_job_submitted(handle=handle, request=request, ctx=ctx)
    split_failures(ctx, "genmedia_job_submitted", results)


def wait_for_result(
    ctx: AppContext, provider: Provider, handle: JobHandle, request: RunRequest
) -> RunResult:
    """Follow the job to completion and fetch its result.

    Enforces ``--timeout``; Ctrl-C or a timeout prints the request id and the command that
    resumes the job (cancelling first with ``--cancel-on-interrupt``).
    """
    options = request.options
    deadline = time.monotonic() + options.timeout if options.timeout else None
    seen: set[tuple[str | None, str, str]] = set()
    logs: list[LogEntry] = []
    last: JobStatus | None = None
    try:
        for status in provider.watch(handle, logs=True, deadline=deadline):
            fresh = [e for e in status.logs or () if e.key not in seen]
            seen.update(e.key for e in fresh)
            logs.extend(fresh)
            last = status
            results = ctx.pm.hook.genmedia_job_progress(
                handle=handle, status=_with_logs(status, fresh), ctx=ctx
            )
            split_failures(ctx, "genmedia_job_progress", results)
            if status.done:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise errors.TimeoutExpired(f"Timed out after {options.timeout:g}s")
        else:
            if deadline is not None and time.monotonic() >= deadline:
                raise errors.TimeoutExpired(f"Timed out after {options.timeout:g}s")
    except KeyboardInterrupt:
        raise _stopped(ctx, provider, handle, request, errors.Interrupted("Interrupted")) from None
    except errors.TimeoutExpired as exc:
        raise _stopped(ctx, provider, handle, request, exc) from None
    if last is not None and last.error:
        # The result call carries the model's own status and body (e.g. a 422 detail
        # list): prefer that error, with the job's identity and last log lines added.
        try:
            provider.result(handle)
        except errors.GenmediaError as exc:
            exc.add_details(
                endpoint_id=handle.endpoint_id,
                request_id=handle.request_id,
                error_type=last.error_type,
                logs=logs[-10:] or None,
            )
            raise
        raise errors.JobFailedError(
            f"Job failed: {last.error}",
            {
                "endpoint_id": handle.endpoint_id,
                "request_id": handle.request_id,
                "error_type": last.error_type,
                "logs": logs[-10:],
            },
        )
    return fetch_result(provider, handle, request, logs)


def fetch_result(
    provider: Provider, handle: JobHandle, request: RunRequest, logs: list[LogEntry]
) -> RunResult:
    """``provider.result``; its error names the job (and the last log lines)."""
    try:
        result = provider.result(handle)
    except errors.GenmediaError as exc:
        exc.add_details(endpoint_id=handle.endpoint_id, request_id=handle.request_id)
        if logs and isinstance(exc.details, dict):
            exc.details.setdefault("logs", logs[-10:])
        raise
    result.logs = logs or result.logs
    result.input = result.input or request.input
    return result


def _with_logs(status: JobStatus, fresh: list[LogEntry]) -> JobStatus:
    import attrs

    return attrs.evolve(status, logs=fresh)


def _stopped(
    ctx: AppContext,
    provider: Provider,
    handle: JobHandle,
    request: RunRequest,
    exc: errors.GenmediaError,
) -> errors.GenmediaError:
    """The error for a wait stopped by Ctrl-C or ``--timeout``: the job's ids and either
    the command that resumes it, or with ``--cancel-on-interrupt`` the host's answer to the
    cancel (``cancel``), whether it took effect (``cancelled``) and the job's state then;
    a cancel that did not take effect gets the resume command too."""
    details: dict[str, Any] = {"endpoint_id": handle.endpoint_id, "request_id": handle.request_id}
    if request.options.cancel_on_interrupt:
        try:
            answer = provider.cancel(handle)
            details["cancel"] = answer.host_status
            details["cancelled"] = answer.accepted is True
        except Exception as cancel_exc:
            details["cancel_error"] = str(cancel_exc)
        try:
            details["final_status"] = provider.status(handle, logs=False).status
        except Exception:
            pass  # the cancel's answer is what matters; the state is a courtesy
        if details.get("cancelled") is not True:
            details["resume"] = resume_command(handle, ctx)
    else:
        details["job"] = "still running; nothing was cancelled"
        details["resume"] = resume_command(handle, ctx)
    kind = "Interrupted" if isinstance(exc, errors.Interrupted) else exc.message
    exc.message = f"{kind}: request {handle.request_id} on {handle.endpoint_id}"
    exc.args = (exc.message,)
    exc.details = details
    return exc


def job_finished(
    ctx: AppContext, handle: JobHandle, request: RunRequest, error: BaseException | None
) -> None:
    """``genmedia_job_finished`` with the outcome :func:`outcome_of` the error."""
    results = ctx.pm.hook.genmedia_job_finished(
        handle=handle, request=request, outcome=outcome_of(error), error=error, ctx=ctx
    )
    split_failures(ctx, "genmedia_job_finished", results)


def outcome_of(error: BaseException | None) -> str:
    """How a wait ended: completed, failed, cancelled, interrupted, timeout or error."""
    if error is None:
        return "completed"
    details = getattr(error, "details", None)
    details = details if isinstance(details, dict) else {}
    if isinstance(error, (KeyboardInterrupt, errors.Interrupted, errors.TimeoutExpired)):
        if details.get("cancelled") is True:  # the provider's CancelResult.accepted
            return "cancelled"
        return "timeout" if isinstance(error, errors.TimeoutExpired) else "interrupted"
    if isinstance(error, (errors.JobFailedError, errors.ValidationError)):
        return "failed"
    return "error"


def resume_command(handle: JobHandle, ctx: AppContext | None = None) -> str:
    """The command that reattaches to ``handle`` (``Settings.invocation``: a plugin may add
    its global option)."""
    if ctx is None:
        return f"genmedia status {handle.endpoint_id} {handle.request_id} --wait"
    from genmedia.output import next_command

    return next_command(ctx, handle)
