"""One run of a batch, start to summary: lock it, reconcile what a dead process left,
run the workers, print the summary, choose the exit code."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from genmedia import errors
from genmedia_batch import store as st
from genmedia_batch.lines import Failure, Printer, Summary
from genmedia_batch.runner import Runner, Settings

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

#: the most failures listed in the summary (``batch show ID --state failed`` has all).
MAX_LISTED = 1000


def settings_from(
    params: dict[str, Any], extra: dict[str, Any] | None, stored: dict[str, Any] | None
) -> Settings:
    """The batch's stored settings, replaced by the options given now."""
    from genmedia.serialization import structure

    base: Settings = structure(stored, Settings) if stored else Settings()
    changes = {
        k: params[k]
        for k in ("concurrency", "rate", "max_cost", "retry_failed", "timeout")
        if params.get(k) is not None
    }
    for key, value in changes.items():
        setattr(base, key, value)
    if extra is not None:
        base.extra = {k: v for k, v in extra.items() if v is not None}
    return base


def execute(
    app: AppContext,
    store: st.Store,
    batch_id: str,
    settings: Settings,
    *,
    summary_only: bool,
    estimate: Any = None,
    endpoints: dict[str, int] | None = None,
) -> int:
    directory = app.settings.data_dir / "batches"
    lock = st.lock_batch(directory, batch_id)
    if lock is None:
        raise errors.GenmediaError(
            f"Batch {batch_id} is being run by another genmedia process",
            {"batch_id": batch_id, "hint": "wait for it, or watch it: genmedia batch show "
             + batch_id},
        )  # fmt: skip
    printer = Printer(app.stdout, quiet=summary_only)
    started = time.monotonic()
    interrupted: BaseException | None = None
    try:
        store.orphans_to_unknown(batch_id)
        before = store.batch(batch_id)
        assert before is not None
        skipped = before.counts[st.COMPLETED] + before.counts[st.CANCELLED]
        if not settings.retry_failed:
            skipped += before.counts[st.FAILED] + before.counts[st.UNKNOWN]
        runner = Runner(app, store, batch_id, settings, printer)
        try:
            runner.run()
        except KeyboardInterrupt as exc:
            interrupted = exc
        after = store.batch(batch_id)
        assert after is not None
        reason = "interrupted" if interrupted is not None else runner.stop_reason
        summary = summarize(app, store, after, reason, runner, skipped, started)
        summary = _with(summary, estimate=estimate, endpoints=endpoints,
                        max_cost=settings.max_cost)  # fmt: skip
        if after.state != "cancelled":
            store.set_batch(batch_id, state=summary.status)
    finally:
        st.unlock_batch(lock)
    printer.summary(summary, pretty_json=summary_only)
    app.warnings.clear()  # they are in the summary
    app.current_job = None  # the error is the batch's, not its last job's
    if interrupted is not None:
        raise errors.Interrupted(
            f"Interrupted: batch {batch_id} stopped submitting; its running jobs go on",
            {"batch_id": batch_id, "counts": summary.counts, "resume": summary.resume,
             "job": "no request id was lost; resume re-attaches to running jobs"},
        )  # fmt: skip
    if summary.status == "budget":
        raise errors.BudgetExceeded(
            f"Batch {batch_id} stopped submitting: the next job would take the estimate "
            f"over --max-cost {settings.max_cost:g}",
            {"batch_id": batch_id, "spent_estimate": summary.spent_estimate,
             "max_cost": settings.max_cost, "resume": summary.resume},
        )  # fmt: skip
    return exit_code(summary)


def _with(summary: Summary, **changes: Any) -> Summary:
    import attrs

    return attrs.evolve(summary, **{k: v for k, v in changes.items() if v is not None})


def summarize(
    app: AppContext,
    store: st.Store,
    batch: st.BatchRow,
    reason: str | None,
    runner: Runner,
    skipped: int,
    started: float,
) -> Summary:
    counts = {k: v for k, v in batch.counts.items() if v}
    failures: list[Failure] = []
    for job in store.jobs(batch.id, (st.FAILED, st.UNKNOWN, st.COMPLETED, st.SUBMITTED)):
        if job.state in (st.COMPLETED, st.SUBMITTED) and not job.exit_code:
            continue
        if len(failures) >= MAX_LISTED:
            break
        message = (job.error or {}).get("error") or job.state
        code = job.exit_code or (errors.EXIT_REMOTE if job.state == st.UNKNOWN else 1)
        failures.append(Failure(job.line, job.key, job.request_id, job.state, message, code))
    unfinished = batch.counts[st.PENDING] + batch.counts[st.SUBMITTED]
    if batch.state == "cancelled":
        status = "cancelled"
    elif reason in ("interrupted", "budget"):
        status = reason
    elif failures or unfinished:
        status = "failed"
    else:
        status = "completed"
    resume = None
    if unfinished or batch.counts[st.UNKNOWN] or batch.counts[st.FAILED]:
        retry = " --retry-failed" if not unfinished else ""
        resume = f"{batch.invocation} batch resume {batch.id}{retry}"
    return Summary(
        batch_id=batch.id,
        status=status,
        total=batch.total,
        counts=counts,
        submitted=runner.submitted,
        reattached=runner.reattached,
        skipped=skipped,
        duration_s=round(time.monotonic() - started, 3),
        spent_estimate=round(runner.spent, 6) if runner.spent else None,
        failures=failures or None,
        resume=resume if status != "cancelled" else None,
        marks=dict(batch.marks),
        warnings=list(app.warnings) or None,
    )


def exit_code(summary: Summary) -> int:
    """0 when every job completed; else the failures' exit code when they share one,
    1 when they differ, or jobs were left unfinished (a cancelled batch)."""
    if summary.status == "completed":
        return 0
    codes = {f.exit_code for f in summary.failures or ()}
    if len(codes) == 1:
        return codes.pop()
    return errors.EXIT_ERROR
