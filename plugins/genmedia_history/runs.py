"""``genmedia_list_runs``: the journal's rows as the core's public :class:`RunRecord`.

Other plugins (the gallery) read past runs through the hook, never through this plugin's
modules. A journal that cannot be read is a clean error, as for ``history list``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.records import RunQuery, RunRecord
    from genmedia_history.journal import JobRecord


def list_runs(query: RunQuery, ctx: AppContext) -> list[RunRecord]:
    from genmedia import errors
    from genmedia_history.journal import JournalError, Query
    from genmedia_history.recorder import journal_for

    journal = journal_for(ctx)
    if not journal.exists:
        return []
    wanted = Query(
        endpoint=query.endpoint,
        statuses=tuple(query.statuses),
        since=query.since,
        text=query.text,
        batch=query.batch,
        limit=query.limit,
    )
    try:
        jobs = journal.list(wanted)
    except JournalError as exc:
        raise errors.GenmediaError(
            f"Cannot read the run journal: {exc}", {"path": str(exc.path), "reason": exc.reason}
        ) from None
    return [to_record(job) for job in jobs]


def to_record(job: JobRecord) -> RunRecord:
    from genmedia.records import RunFile, RunRecord

    return RunRecord(
        provider=job.provider,
        endpoint_id=job.endpoint_id,
        request_id=job.request_id,
        status=job.status,
        submitted_at=job.submitted_at,
        completed_at=job.completed_at,
        prompt=job.prompt,
        input=job.input,
        result=job.result,
        error=job.error,
        files=[
            RunFile(
                path=f.path,
                url=f.url,
                json_path=f.json_path,
                size_bytes=f.size_bytes,
                content_type=f.content_type,
                sha256=f.sha256,
            )
            for f in job.files
        ],
        marks=dict(job.marks),
        invocation=job.invocation,
        batch=job.batch,
    )
