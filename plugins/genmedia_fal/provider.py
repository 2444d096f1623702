"""``FalProvider``: the fal.ai model host, implementing :class:`genmedia.provider.Provider`.

A thin façade: the work happens in :mod:`.queue` (jobs), :mod:`.storage` (uploads) and
:mod:`.platform` (catalog, schemas, prices), all over one :class:`.client.FalClient`.
fal claims every endpoint id (it is the catch-all) and owns the ``fal:`` scheme.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from genmedia.provider import BaseProvider, Credential
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
from genmedia_fal.client import FalClient
from genmedia_fal.platform import Platform
from genmedia_fal.queue import Queue
from genmedia_fal.storage import Storage

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext


@attrs.define(eq=False)
class FalProvider(BaseProvider):
    ctx: AppContext = attrs.field(repr=False)
    name: str = "fal"
    schemes: tuple[str, ...] = ("fal",)
    #: fal claims every endpoint id, so more specific providers are asked first.
    catch_all: bool = True
    #: run options this provider reads from ``request.extra`` when submitting.
    options: tuple[str, ...] = ("start_timeout", "priority")
    client: FalClient = attrs.field(init=False, repr=False)
    queue: Queue = attrs.field(init=False, repr=False)
    storage: Storage = attrs.field(init=False, repr=False)
    platform: Platform = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.client = FalClient(self.ctx)
        self.queue = Queue(self.client)
        self.storage = Storage(self.client)
        self.platform = Platform(self.client)

    def claims(self, endpoint_id: str) -> bool:
        return True

    # -- discovery ------------------------------------------------------------------------

    def search(self, query: ModelQuery) -> ModelPage:
        return self.platform.search(query)

    def schema(self, endpoint_id: str, *, refresh: bool = False) -> ModelSchema:
        """The model's schema, from the schema cache unless ``refresh`` (see
        :mod:`genmedia_fal.schema_cache`)."""
        return self.platform.schema(endpoint_id, refresh=refresh)

    def pricing(self, endpoint_ids: list[str]) -> dict[str, Any]:
        return self.platform.pricing(endpoint_ids)

    def estimate(self, request: RunRequest) -> dict[str, Any]:
        return self.platform.estimate(request)

    # -- storage --------------------------------------------------------------------------

    def upload(self, source: str, *, progress: Any = None) -> UploadedFile:
        return self.storage.upload(source, progress=progress)

    # -- jobs -----------------------------------------------------------------------------

    def require_credentials(self) -> None:
        """Fail fast (before the schema fetch) when a paid run has no key."""
        self.client.key()

    def credential(self) -> Credential:
        """The key as ``genmedia config`` shows it: masked, with its source."""
        key = self.client.credential
        return Credential(
            key="api_key",
            path=("api_key",),
            masked=key.masked,
            source=key.source,
            description="the fal API key (masked; set it with genmedia setup or FAL_KEY)",
            hint="run: genmedia setup   (or export FAL_KEY=...)",
        )

    def submit(self, request: RunRequest) -> JobHandle:
        return self.queue.submit(request)

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus:
        return self.queue.status(handle, logs=logs)

    def watch(
        self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None
    ) -> Iterator[JobStatus]:
        return self.queue.watch(handle, logs=logs, deadline=deadline)

    def result(self, handle: JobHandle) -> RunResult:
        return self.queue.result(handle)

    def cancel(self, handle: JobHandle) -> CancelResult:
        return self.queue.cancel(handle)

    def handle_for(self, endpoint_id: str, request_id: str) -> JobHandle:
        return self.queue.handle_for(endpoint_id, request_id)


def fal_provider(app: AppContext) -> FalProvider:
    """The registered fal provider, for fal's own commands (``pricing``, ``docs``,
    ``assets``): its :class:`FalClient` carries the hosts, the key and the retries. When a
    plugin has replaced the ``fal`` provider by one of its own, a fresh one is made."""
    provider = app.providers.get("fal")
    return provider if isinstance(provider, FalProvider) else FalProvider(app)
