"""What the journal keeps of a job besides its ids, whatever the provider and plugins:
the handle's ``extra`` whole (a third-party provider's own keys, handed back when
``status ID --wait`` reattaches in a new invocation), and the output marks and command
words the job was made under (compared as a whole when the job is looked up, and the
start of every hint). Rows recorded before (schema 2: fal's three URL columns and the
``sandbox`` column) are still read and resumed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from genmedia import errors, hookimpl
from genmedia.provider import BaseProvider
from genmedia.types import (
    CancelResult,
    JobHandle,
    JobStatus,
    ModelPage,
    ModelQuery,
    ModelSchema,
    RunRequest,
    RunResult,
    UploadedFile,
)
from genmedia_history.journal import SCHEMA_VERSION, Journal
from tests.history.journals import journal_at, raw, version
from tests.plugins.staging import Staging

RUN = ("run", "ticket/model", "--provider", "ticket")


@attrs.define
class TicketProvider(BaseProvider):
    """A third-party provider that can only reach a job with the ``extra`` it handed out
    at submit (a ticket and a region, keys no other plugin knows): a handle rebuilt from
    the ids alone (``handle_for``) is refused, as a real host would refuse it."""

    name: str = "ticket"
    schemes: tuple[str, ...] = ()
    #: the host's jobs: request id → the extra that reaches it
    jobs: dict[str, dict[str, str]] = attrs.field(factory=dict)
    #: the extra each status/result call came with
    seen: list[dict[str, str]] = attrs.field(factory=list)

    def claims(self, endpoint_id: str) -> bool:
        return False

    def search(self, query: ModelQuery) -> ModelPage:
        return ModelPage(models=[])

    def schema(self, endpoint_id: str) -> ModelSchema:
        raise errors.GenmediaError("no schemas")

    def upload(self, source: str, *, progress: Any = None) -> UploadedFile:
        raise errors.GenmediaError("no uploads")

    def submit(self, request: RunRequest) -> JobHandle:
        rid = str(uuid.uuid4())
        extra = {"ticket": uuid.uuid4().hex, "region": "eu-2"}
        self.jobs[rid] = extra
        return JobHandle(self.name, request.endpoint_id, rid, submitted_at=time.time(), extra=extra)

    def _check(self, handle: JobHandle) -> None:
        self.seen.append(dict(handle.extra))
        if self.jobs.get(handle.request_id) != handle.extra:
            raise errors.RemoteError(
                f"job {handle.request_id} cannot be reached without its ticket",
                {"extra": dict(handle.extra)},
            )

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus:
        self._check(handle)
        return JobStatus(status="COMPLETED", request_id=handle.request_id)

    def watch(
        self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None
    ) -> Iterator[JobStatus]:
        self._check(handle)
        yield JobStatus(status="COMPLETED", request_id=handle.request_id)

    def result(self, handle: JobHandle) -> RunResult:
        self._check(handle)
        return RunResult(
            endpoint_id=handle.endpoint_id,
            request_id=handle.request_id,
            result={"text": "done"},
            handle=handle,
        )

    def cancel(self, handle: JobHandle) -> CancelResult:
        self._check(handle)
        return CancelResult(True, "CANCELLATION_REQUESTED")

    def handle_for(self, endpoint_id: str, request_id: str) -> JobHandle:
        return JobHandle(self.name, endpoint_id, request_id)


class TicketPlugin(Staging):
    """The provider, and ``--staging``: a global option that marks the output
    ``{"staging": true}`` and makes hints say ``genmedia --staging`` (as the sandbox
    does with its own mark and flag)."""

    def __init__(self) -> None:
        self.provider = TicketProvider()

    @hookimpl
    def genmedia_register_providers(self, register: Any) -> None:
        register(self.provider)


@pytest.fixture
def ticket(test_plugins: list[object]) -> TicketPlugin:
    plugin = TicketPlugin()
    test_plugins.append(plugin)
    return plugin


def test_a_third_party_extra_comes_back_whole_in_a_new_invocation(cli, ticket, rows) -> None:
    submitted = cli(*RUN, "--prompt", "later", "--async", "--json")
    assert submitted.exit_code == 0, submitted
    rid = submitted.json["request_id"]
    handed_out = ticket.provider.jobs[rid]
    (row,) = rows()
    assert json.loads(row["handle_extra"]) == handed_out
    # a new invocation knows the job only by its request id: the journal hands it back
    done = cli("status", rid, "--wait", "--json")
    assert done.exit_code == 0, done
    assert done.json["status"] == "completed" and done.json["result"] == {"text": "done"}
    assert ticket.provider.seen and all(seen == handed_out for seen in ticket.provider.seen)
    shown = cli("history", "show", rid, "--json").json
    assert shown["status"] == "completed"
    assert (shown["ticket"], shown["region"]) == (handed_out["ticket"], "eu-2")


def _urls(rid: str) -> dict[str, str]:
    base = f"https://queue.example/ticket/model/requests/{rid}"
    return {"status_url": base + "/status", "response_url": base, "cancel_url": base + "/cancel"}


def test_a_row_of_schema_2_still_resumes(cli, ticket, db_path, rows) -> None:
    """A job recorded by an older genmedia (its handle in the URL columns): the journal
    hands those back as ``extra``, the job finishes, and the journal is migrated."""
    rid = "old-job-1"
    ticket.provider.jobs[rid] = _urls(rid)  # the host reaches it by those URLs
    journal_at(
        db_path,
        2,
        [{"provider": "ticket", "endpoint_id": "ticket/model", "request_id": rid, **_urls(rid)}],
    )
    done = cli("status", rid, "--wait", "--json")
    assert done.exit_code == 0, done
    assert done.json["status"] == "completed"
    assert ticket.provider.seen == [_urls(rid)] * len(ticket.provider.seen)
    (row,) = rows()
    assert row["status"] == "completed" and json.loads(row["handle_extra"]) == _urls(rid)
    assert version(db_path) == SCHEMA_VERSION == 3


def test_migration_2_to_3_keeps_old_rows_readable(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    journal_at(
        path,
        2,
        [
            {"provider": "fal", "endpoint_id": "fal-ai/flux/dev", "request_id": "plain",
             **_urls("plain")},
            {"provider": "fal", "endpoint_id": "fal-ai/flux/dev", "request_id": "marked",
             "sandbox": 1, "batch": "b-1", "submitted_at": 2000.0},
        ],
    )  # fmt: skip
    journal = Journal(path)
    for migrated in (False, True):  # read as it is, then after the first write migrated it
        plain, marked = journal.get("plain"), journal.get("marked")
        assert plain is not None and marked is not None
        assert plain.extra == _urls("plain") and plain.marks == {} and plain.invocation is None
        assert marked.extra == {} and marked.batch == "b-1"
        # the schema-2 sandbox column was the one mark of the time
        assert (marked.marks, marked.invocation) == ({"sandbox": True}, "genmedia --sandbox")
        if not migrated:
            journal.record_job(
                provider="other",
                endpoint_id="x/y",
                request_id="new",
                extra={"token": "t"},
                marks={"staging": True},
                invocation="genmedia --staging",
            )
    assert version(path) == 3
    (new,) = raw(path, "SELECT * FROM jobs WHERE request_id = 'new'")
    (old,) = raw(path, "SELECT * FROM jobs WHERE request_id = 'plain'")
    assert json.loads(new["handle_extra"]) == {"token": "t"}
    assert (json.loads(new["marks"]), new["invocation"]) == (
        {"staging": True},
        "genmedia --staging",
    )
    # the old columns stay (older genmedias read them); the old row is left as it was
    assert old["status_url"] == _urls("plain")["status_url"] and old["handle_extra"] is None
    new_job = journal.get("new")
    assert new_job is not None and new_job.extra == {"token": "t"}
    assert new_job.marks == {"staging": True}


def test_a_plugins_marks_and_invocation_reach_every_hint(cli, ticket, rows) -> None:
    """A mark other than the sandbox's: recorded with the job, compared as a whole when
    the job is looked up, and the recorded command words start the hints."""
    submitted = cli("--staging", *RUN, "--prompt", "p", "--async", "--json")
    assert submitted.exit_code == 0, submitted
    rid = submitted.json["request_id"]
    (row,) = rows()
    assert json.loads(row["marks"]) == {"staging": True}
    assert row["invocation"] == "genmedia --staging"

    (listed,) = cli("history", "list", "--json").json["jobs"]
    assert listed["resume"] == f"genmedia --staging status {rid} --wait"
    assert listed["staging"] is True and listed["marks"] == {"staging": True}

    # looked up without the plugin's option: a warning that names the marks and the
    # command words that reach the job
    plain = cli("status", rid, "--json")
    assert plain.exit_code == 0, plain
    warning = " ".join(plain.json.get("warnings") or [])
    assert 'recorded under marks {"staging": true}' in warning
    assert "this invocation has none" in warning
    assert f"genmedia --staging status {rid}" in warning
    # under the same marks: nothing to say
    same = cli("--staging", "status", rid, "--json")
    assert same.exit_code == 0, same
    assert not same.json.get("warnings")

    # the run store hands the marks and words to other plugins (the gallery, mcp)
    from genmedia.context import AppContext
    from genmedia.records import RunQuery
    from genmedia_history.runs import list_runs

    app = AppContext()
    app.configure()
    (record,) = list_runs(RunQuery(), app)
    assert record.marks == {"staging": True} and record.invocation == "genmedia --staging"
