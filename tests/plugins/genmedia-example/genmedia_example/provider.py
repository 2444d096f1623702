"""An offline provider: ``example/echo`` answers with its input, and media it is pointed at.

It runs no model. It exists to prove that a third-party provider gets the whole pipeline:
schema-typed inputs, validation, execution, progress, sinks and the JSON output.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from genmedia import errors
from genmedia.provider import BaseProvider, Credential
from genmedia.types import (
    CancelResult,
    FieldSchema,
    JobHandle,
    JobStatus,
    LogEntry,
    ModelInfo,
    ModelPage,
    ModelQuery,
    ModelSchema,
    RunRequest,
    RunResult,
    UploadedFile,
)

ECHO = ModelSchema(
    endpoint_id="example/echo",
    name="Echo",
    category="text-to-image",
    description="Answers with its input; `image_url` comes back as an image reference.",
    input=[
        FieldSchema("prompt", "string", required=True, description="Any text."),
        FieldSchema("repeat", "integer", default=1, minimum=1, maximum=5),
        FieldSchema("image_url", "string", is_file=True, description="Media to hand back."),
    ],
    output=[FieldSchema("echo", "object", required=True)],
)


@attrs.define
class EchoProvider(BaseProvider):
    name: str = "example"
    schemes: tuple[str, ...] = ("example",)
    #: (key, where it came from), resolved by the plugin; never printed.
    key_source: tuple[str, str] | None = attrs.field(default=None, repr=False)
    require_key: bool = False
    _jobs: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    def require_credentials(self) -> None:
        """This provider's own credentials (the core knows no provider's keys)."""
        if self.require_key and self.key_source is None:
            raise errors.AuthError(
                "No example key: set EXAMPLE_KEY or plugins.example.key in the config file",
                {"provider": self.name},
            )

    def credential(self) -> Credential:
        """How ``genmedia config list|get example.key`` shows the key: masked."""
        from genmedia.redact import mask

        key, source = self.key_source or (None, None)
        return Credential(
            key="example.key",
            path=("plugins", "example", "key"),
            masked=mask(key),
            source=source,
            description="the example provider's key (masked)",
            hint="export EXAMPLE_KEY=...",
        )

    def claims(self, endpoint_id: str) -> bool:
        return endpoint_id.startswith("example/")

    def search(self, query: ModelQuery) -> ModelPage:
        info = ModelInfo("example/echo", name=ECHO.name, category=ECHO.category, status="active")
        return ModelPage([info])

    def schema(self, endpoint_id: str) -> ModelSchema:
        endpoint_id = endpoint_id.removeprefix("example:")
        if endpoint_id != "example/echo":
            raise errors.NotFoundError(f"Model not found: {endpoint_id}")
        return ECHO

    def upload(self, source: str, *, progress: Any = None) -> UploadedFile:
        path = Path(source)
        if not path.is_file():
            raise errors.UsageError(f"File not found: {path.resolve()}")
        return UploadedFile(
            url=path.resolve().as_uri(), source=source, size_bytes=path.stat().st_size
        )

    def submit(self, request: RunRequest) -> JobHandle:
        request_id = str(uuid.uuid4())
        self._jobs[request_id] = dict(request.input)
        return JobHandle(self.name, request.endpoint_id.removeprefix("example:"), request_id)

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus:
        return JobStatus("COMPLETED", handle.request_id, logs=[] if logs else None)

    def watch(
        self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None
    ) -> Iterator[JobStatus]:
        yield JobStatus("IN_QUEUE", handle.request_id, queue_position=0)
        yield JobStatus("IN_PROGRESS", handle.request_id, logs=[LogEntry("echoing")])
        yield JobStatus("COMPLETED", handle.request_id, logs=[LogEntry("done")])

    def result(self, handle: JobHandle) -> RunResult:
        payload = self._jobs.get(handle.request_id)
        if payload is None:
            raise errors.NotFoundError(f"Request not found: {handle.request_id}")
        result: dict[str, Any] = {"echo": payload}
        if self.key_source is not None:
            result["key_source"] = self.key_source[1]  # where the key came from, never it
        if payload.get("image_url"):
            result["image"] = {"url": payload["image_url"], "file_name": "echo.png"}
        return RunResult(handle.endpoint_id, handle.request_id, result, handle=handle)

    def cancel(self, handle: JobHandle) -> CancelResult:
        # echo jobs finish as they are submitted: a cancel always comes too late
        return CancelResult(accepted=False, host_status="ALREADY_COMPLETED")

    def handle_for(self, endpoint_id: str, request_id: str) -> JobHandle:
        return JobHandle(self.name, endpoint_id, request_id)
