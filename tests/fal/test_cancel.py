"""Cancelling with --cancel-on-interrupt against the emulator: the provider's CancelResult
decides whether the run ended as ``cancelled``, for a waiting ``run`` and for ``--async``
stopped while the job is being announced; the journal records the same ending."""

from __future__ import annotations

from genmedia import errors, hookimpl
from genmedia.testing import invoke
from tests.fal.waiting import wait_cancelled

SCHNELL = "fal-ai/flux/schnell"


class CtrlCWhileAnnouncing:
    """Ctrl-C lands while the job is being announced: after the journal wrote its row
    (``trylast``: the built-ins' job_submitted run first) and before the command returns."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    @hookimpl(trylast=True)
    def genmedia_job_submitted(self, handle):
        raise KeyboardInterrupt

    @hookimpl
    def genmedia_job_finished(self, outcome):
        self.outcomes.append(outcome)


def test_timeout_with_cancel_on_interrupt_is_a_cancelled_run(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    result = cli("run", SCHNELL, "--prompt", "x", "--timeout", "0.3", "--cancel-on-interrupt")
    assert result.exit_code == errors.EXIT_TIMEOUT, result
    (job,) = fal_sandbox_env.jobs
    details = result.error["details"]
    assert details["cancel"] == "CANCELLATION_REQUESTED"  # fal's word, as users saw it
    assert details["cancelled"] is True and "resume" not in details
    assert wait_cancelled(job)
    shown = cli("history", "show", job.request_id, "--json")
    assert shown.json["status"] == "cancelled"


def test_async_stopped_while_announcing_is_cancelled_and_recorded(cli, fal_sandbox_env):
    """``run --async`` goes through the same start as a waiting run: Ctrl-C while the job is
    announced cancels it with --cancel-on-interrupt and genmedia_job_finished hears it."""
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    stopper = CtrlCWhileAnnouncing()
    result = invoke(
        ["run", SCHNELL, "--prompt", "x", "--async", "--cancel-on-interrupt", "--json"],
        plugins=[stopper],
    )
    assert result.exit_code == errors.EXIT_INTERRUPTED, result
    (job,) = fal_sandbox_env.jobs
    details = result.error["details"]
    assert details["request_id"] == job.request_id
    assert details["cancel"] == "CANCELLATION_REQUESTED" and details["cancelled"] is True
    assert stopper.outcomes == ["cancelled"]
    assert wait_cancelled(job)
    assert cli("history", "show", job.request_id, "--json").json["status"] == "cancelled"


def test_async_stopped_while_announcing_without_cancel_is_interrupted(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    stopper = CtrlCWhileAnnouncing()
    result = invoke(["run", SCHNELL, "--prompt", "x", "--async", "--json"], plugins=[stopper])
    assert result.exit_code == errors.EXIT_INTERRUPTED, result
    (job,) = fal_sandbox_env.jobs
    details = result.error["details"]
    assert details["resume"] == f"genmedia status {SCHNELL} {job.request_id} --wait"
    assert stopper.outcomes == ["interrupted"]
    assert not job.cancelled
    assert cli("history", "show", job.request_id, "--json").json["status"] == "interrupted"


def test_cancelling_a_finished_job_is_not_a_cancel(cli, fal_sandbox_env):
    """fal's 400 ALREADY_COMPLETED is a CancelResult that was not accepted: ``status
    --cancel`` says so (exit 1) with the host's word."""
    done = cli("run", SCHNELL, "--prompt", "x")
    assert done.exit_code == 0, done
    rid = done.json["request_id"]
    again = cli("status", SCHNELL, rid, "--cancel")
    assert again.exit_code == errors.EXIT_ERROR, again
    assert again.error["error"] == f"Request {rid} already completed; nothing to cancel"
    assert again.error["details"]["host_status"] == "ALREADY_COMPLETED"
