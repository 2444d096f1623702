"""What ``genmedia batch`` prints: one :class:`JobLine` per finished job (NDJSON, as jobs
finish), then one :class:`Summary`. Both go through the project's cattrs converter."""

from __future__ import annotations

import json
import threading
from typing import IO, Any

import attrs

from genmedia.context import one_line_json


@attrs.frozen
class JobError:
    error: str
    details: Any = None
    exit_code: int = 1


@attrs.frozen
class JobLine:
    """A finished job: ``status`` is ``completed``, ``failed``, ``unknown`` (its submit was
    cut off: it may exist) or ``cancelled``; ``submitted`` when the wait broke on an error
    (the network, the host) while the job goes on: a resume re-attaches to it."""

    line: int
    id: str | None
    endpoint_id: str
    request_id: str | None
    status: str
    result: dict[str, Any] | None = None
    files: list[str] | None = None
    download_failures: list[dict[str, Any]] | None = None
    error: JobError | None = None


@attrs.frozen
class Failure:
    line: int
    id: str | None
    request_id: str | None
    state: str
    error: str
    exit_code: int


@attrs.frozen
class Summary:
    """The batch after this run: ``status`` is ``completed`` (every job completed),
    ``failed`` (some failed or are unknown), ``interrupted``, ``budget`` (submitting stopped
    at ``--max-cost``), ``cancelled`` or ``dry_run``."""

    batch_id: str
    status: str
    total: int
    counts: dict[str, int]
    submitted: int = 0
    reattached: int = 0
    skipped: int = 0
    duration_s: float | None = None
    estimate: Any = None
    spent_estimate: float | None = None
    max_cost: float | None = None
    endpoints: dict[str, int] | None = None
    failures: list[Failure] | None = None
    resume: str | None = None
    #: the output marks the batch was made under (``Settings.marks``), keys of the line.
    marks: dict[str, Any] = attrs.field(factory=dict, metadata={"flatten": True})
    warnings: list[str] | None = None


class Printer:
    """NDJSON on stdout, one line at a time from any worker."""

    def __init__(self, stream: IO[str], *, quiet: bool) -> None:
        self.stream, self.quiet = stream, quiet
        self.lock = threading.Lock()

    def job(self, line: JobLine) -> None:
        if self.quiet:
            return
        self._write(line)

    def summary(self, summary: Summary, *, pretty_json: bool = False) -> None:
        from genmedia.serialization import unstructure

        doc = unstructure(summary)
        text = json.dumps(doc, indent=2, ensure_ascii=False) if pretty_json else one_line_json(doc)
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _write(self, value: Any) -> None:
        from genmedia.redact import redact_value
        from genmedia.serialization import unstructure

        text = one_line_json(redact_value(unstructure(value)))
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()
