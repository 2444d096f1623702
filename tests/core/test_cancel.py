"""--cancel-on-interrupt with a third-party provider: the core reads the provider's typed
CancelResult, never a host's vocabulary, to decide whether the run ended as ``cancelled``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from genmedia import errors, hookimpl
from genmedia.provider import BaseProvider
from genmedia.testing import invoke
from genmedia.types import (
    CancelResult,
    JobHandle,
    JobStatus,
    ModelSchema,
    RunRequest,
    RunResult,
)


class SlowProvider(BaseProvider):
    """Jobs that stay queued; ``cancel`` answers with ``answer``."""

    name = "slow"
    schemes = ("slow",)

    def __init__(self, answer: CancelResult) -> None:
        self.answer = answer
        self.cancelled: list[str] = []

    def claims(self, endpoint_id: str) -> bool:
        return endpoint_id.startswith("slow/")

    def schema(self, endpoint_id: str) -> ModelSchema:
        return ModelSchema(endpoint_id, input=[])

    def submit(self, request: RunRequest) -> JobHandle:
        return JobHandle(self.name, request.endpoint_id, "req-1")

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus:
        return JobStatus("IN_QUEUE", handle.request_id, queue_position=3)

    def watch(
        self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None
    ) -> Iterator[JobStatus]:
        yield self.status(handle)

    def result(self, handle: JobHandle) -> RunResult:
        raise AssertionError("never fetched")

    def cancel(self, handle: JobHandle) -> CancelResult:
        self.cancelled.append(handle.request_id)
        return self.answer


class CtrlCOnFirstUpdate:
    """Registers the provider; Ctrl-C lands on the first status update; records endings."""

    def __init__(self, provider: SlowProvider) -> None:
        self.provider = provider
        self.outcomes: list[str] = []

    @hookimpl
    def genmedia_register_providers(self, register):
        register(self.provider)

    @hookimpl
    def genmedia_job_progress(self, status):
        raise KeyboardInterrupt

    @hookimpl
    def genmedia_job_finished(self, outcome):
        self.outcomes.append(outcome)


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (CancelResult(accepted=True, host_status="STOPPING"), "cancelled"),
        # a host's own word for "too late", which is not fal's ALREADY_COMPLETED
        (CancelResult(accepted=False, host_status="TOO_LATE"), "interrupted"),
    ],
    ids=["accepted", "too-late"],
)
def test_the_providers_cancel_result_decides_the_outcome(answer, outcome):
    provider = SlowProvider(answer)
    plugin = CtrlCOnFirstUpdate(provider)
    result = invoke(
        ["run", "slow/model", "--cancel-on-interrupt", "--json"], plugins=[plugin], builtins=False
    )
    assert result.exit_code == errors.EXIT_INTERRUPTED, result
    assert provider.cancelled == ["req-1"]
    assert plugin.outcomes == [outcome]
    details = result.error["details"]
    assert details["cancel"] == answer.host_status  # the host's word, as it said it
    assert details["cancelled"] is answer.accepted
    assert details["final_status"] == "IN_QUEUE"
    # a cancel that did not take effect leaves a job to come back to
    assert ("resume" in details) is (not answer.accepted)
