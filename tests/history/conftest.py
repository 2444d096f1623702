"""Fixtures for the history plugin's tests.

``fake`` registers a scripted provider (and an optional file-saving sink that appends to
the typed ``result.saved_files`` channel) for one test through ``genmedia.testing.invoke``,
so ``cli(...)`` runs the real pipeline, the real history hooks and a real SQLite journal
without a network. The end-to-end tests in
test_e2e.py use the fal emulator instead.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from genmedia import errors, hookimpl
from genmedia.provider import BaseProvider
from genmedia.testing import InvokeResult, invoke
from genmedia.types import (
    CancelResult,
    JobHandle,
    JobStatus,
    LogEntry,
    ModelPage,
    ModelQuery,
    ModelSchema,
    RunRequest,
    RunResult,
    SavedFile,
    UploadedFile,
)


@attrs.define
class FakeProvider(BaseProvider):
    """A provider whose jobs follow a script.

    ``script`` is the list of host states ``watch`` yields (the last one must be
    COMPLETED to finish); ``on_watch`` is called before each yield with the state index
    (tests use it to look at the journal while the job is "held", or to raise);
    ``request_ids`` are handed out first by ``submit``, then random uuid4s.
    """

    name: str = "fake"
    schemes: tuple[str, ...] = ("fake",)
    script: list[str] = attrs.field(factory=lambda: ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"])
    error: str | None = None
    on_watch: Callable[[int, JobHandle], None] | None = None
    result_error: Exception | None = None
    submitted: list[JobHandle] = attrs.field(factory=list)
    cancelled: list[str] = attrs.field(factory=list)
    request_ids: list[str] = attrs.field(factory=list)

    def claims(self, endpoint_id: str) -> bool:
        return False

    def search(self, query: ModelQuery) -> ModelPage:
        return ModelPage(models=[])

    def schema(self, endpoint_id: str) -> ModelSchema:
        raise errors.GenmediaError("the fake provider has no schemas")

    def upload(self, source: str, *, progress: Any = None) -> UploadedFile:
        return UploadedFile(url=f"https://cdn.example/{Path(source).name}", source=source)

    def submit(self, request: RunRequest) -> JobHandle:
        rid = self.request_ids.pop(0) if self.request_ids else str(uuid.uuid4())
        base = f"https://queue.example/{request.endpoint_id}/requests/{rid}"
        handle = JobHandle(
            provider=self.name,
            endpoint_id=request.endpoint_id,
            request_id=rid,
            submitted_at=time.time(),
            extra={
                "status_url": base + "/status",
                "response_url": base,
                "cancel_url": base + "/cancel",
            },
        )
        self.submitted.append(handle)
        return handle

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus:
        return JobStatus(status=self.script[-1], request_id=handle.request_id, error=self.error)

    def watch(self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None):
        for i, state in enumerate(self.script):
            if self.on_watch is not None:
                self.on_watch(i, handle)
            done = state == "COMPLETED"
            yield JobStatus(
                status=state,
                request_id=handle.request_id,
                queue_position=0 if state == "IN_QUEUE" else None,
                logs=[LogEntry(message=f"step {i}")] if state == "IN_PROGRESS" else None,
                error=self.error if done else None,
                error_type="runner_disconnected" if done and self.error else None,
            )

    def result(self, handle: JobHandle) -> RunResult:
        if self.result_error is not None:
            raise self.result_error
        return RunResult(
            endpoint_id=handle.endpoint_id,
            request_id=handle.request_id,
            result={
                "images": [{"url": f"https://cdn.example/{handle.request_id}.png"}],
                "seed": 42,
            },
            handle=handle,
        )

    def cancel(self, handle: JobHandle) -> CancelResult:
        self.cancelled.append(handle.request_id)
        return CancelResult(accepted=True, host_status="CANCELLATION_REQUESTED")

    def handle_for(self, endpoint_id: str, request_id: str) -> JobHandle:
        return JobHandle(provider=self.name, endpoint_id=endpoint_id, request_id=request_id)


class FakePlugin:
    """Registers the provider and, when ``save_dir`` is set, a sink that saves files."""

    def __init__(self, provider: FakeProvider):
        self.provider = provider
        self.save_dir: Path | None = None

    @hookimpl
    def genmedia_register_providers(self, register: Any) -> None:
        register(self.provider)

    @hookimpl
    def genmedia_handle_result(self, result: RunResult, ctx: Any) -> Any:
        if self.save_dir is None:
            return None
        self.save_dir.mkdir(parents=True, exist_ok=True)
        saved = []
        for ref in result.media():
            target = self.save_dir / f"{ref.index}.png"
            target.write_bytes(b"\x89PNG fake " + result.request_id.encode())
            saved.append(
                SavedFile(
                    url=ref.url,
                    path=str(target),
                    size_bytes=target.stat().st_size,
                    json_path=ref.json_path,
                    content_type="image/png",
                )
            )
        result.saved_files.extend(saved)  # the typed channel the journal reads
        return None


@pytest.fixture
def test_plugins() -> list[object]:
    """Plugins registered for this test's ``cli`` calls (``fake`` adds its own)."""
    return []


@pytest.fixture
def cli(test_plugins: list[object]) -> Callable[..., InvokeResult]:
    """Like the root ``cli``, through ``genmedia.testing.invoke`` with ``test_plugins``
    registered on a fresh manager (built-ins included, entry points off)."""

    def run(
        *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> InvokeResult:
        result = invoke(list(args), plugins=test_plugins, input=input, env=env)
        if result.exception is not None:
            raise result.exception
        return result

    return run


@pytest.fixture
def fake(test_plugins: list[object]) -> FakePlugin:
    plugin = FakePlugin(FakeProvider())
    test_plugins.append(plugin)
    return plugin


@pytest.fixture
def db_path(isolated_env: Path) -> Path:
    return isolated_env / "data" / "history.db"


@pytest.fixture
def rows(db_path: Path) -> Callable[[], list[dict[str, Any]]]:
    """Every job row, read with plain sqlite3 (as a second reader would)."""

    def read() -> list[dict[str, Any]]:
        if not db_path.exists():
            return []
        conn = sqlite3.connect(db_path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM jobs ORDER BY id")]
        except sqlite3.OperationalError:  # created by another process but not migrated yet
            return []
        finally:
            conn.close()

    return read
