"""The provider contract: :class:`Provider` lists every member, :class:`BaseProvider` gives
the optional ones their documented defaults.

A provider is a model host handed to the core by ``genmedia_register_providers``. Subclass
:class:`BaseProvider` and implement ``submit``, ``status`` and ``result`` (and whatever else
your host offers); the core calls every member directly, never probing with ``getattr``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from genmedia import errors
from genmedia.progress import ProgressFn

if TYPE_CHECKING:  # pragma: no cover
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


@attrs.frozen
class Credential:
    """A provider's credential as ``genmedia config`` shows it; never the secret itself.

    ``key`` names it in ``config list|get|unset`` and ``path`` is where the config file
    keeps it; ``source`` says where the value came from (``env:NAME``, ``config``, a
    plugin's word; None when unset); ``hint`` tells how to set it (``config set`` refuses
    credentials: they would stay in the shell history).
    """

    key: str
    path: tuple[str, ...]
    masked: str | None
    source: str | None
    description: str = ""
    hint: str = ""


#: Every member of the contract (what registration checks on a provider that does not
#: subclass :class:`BaseProvider`).
MEMBERS = (
    "name",
    "schemes",
    "catch_all",
    "options",
    "claims",
    "require_credentials",
    "credential",
    "search",
    "schema",
    "estimate",
    "upload",
    "submit",
    "status",
    "watch",
    "result",
    "cancel",
    "handle_for",
)


@runtime_checkable
class Provider(Protocol):
    """A model host. Methods are synchronous; they raise
    :class:`genmedia.errors.GenmediaError` subclasses for expected failures."""

    name: str
    #: endpoint prefixes this provider owns, e.g. ``("fal",)`` claims ``fal:owner/app``.
    schemes: tuple[str, ...]
    #: true for a provider that claims every endpoint: asked after the specific ones, and
    #: the default provider when the configuration names none.
    catch_all: bool
    #: names of ``run`` options (added by its plugin through ``genmedia_add_options``)
    #: this provider reads from ``request.extra`` when submitting, e.g. a queue priority.
    options: tuple[str, ...]

    def claims(self, endpoint_id: str) -> bool:
        """Whether this provider serves ``endpoint_id`` when no scheme or flag chose one."""

    def require_credentials(self) -> None:
        """Raise :class:`~genmedia.errors.AuthError` before a paid run without credentials
        (called before the schema is fetched). Providers resolve their own credentials."""

    def credential(self) -> Credential | None:
        """The credential as ``genmedia config`` shows it (masked), or None. A provider
        reads its own environment variables and config keys (and
        :meth:`genmedia.config.Settings.credential` for a runtime override) and registers
        every secret it reads with :func:`genmedia.redact.register_secret`."""

    def search(self, query: ModelQuery) -> ModelPage: ...

    def schema(self, endpoint_id: str) -> ModelSchema: ...

    def estimate(self, request: RunRequest) -> Any:
        """A price estimate for ``--dry-run`` (JSON-able), or None when there is none."""

    def upload(self, source: str, *, progress: ProgressFn | None = None) -> UploadedFile:
        """Put a local file (or an http(s) URL's content) on the provider's storage,
        calling ``progress(bytes_done, total_or_None)`` if given."""

    def submit(self, request: RunRequest) -> JobHandle: ...

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus: ...

    def watch(
        self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None
    ) -> Iterator[JobStatus]:
        """Yield status updates until the job is COMPLETED (stream or poll, the provider's
        choice). Must return control at least every second so the core can enforce
        ``deadline`` (a ``time.monotonic()`` value) and notice Ctrl-C."""

    def result(self, handle: JobHandle) -> RunResult: ...

    def cancel(self, handle: JobHandle) -> CancelResult:
        """Ask the host to cancel. Returns whether the host took it (``accepted``; false
        when the job had already finished) and the host's own word for it; raises for a
        cancel that could not be asked (network, auth, unknown job)."""

    def handle_for(self, endpoint_id: str, request_id: str) -> JobHandle:
        """Rebuild a handle from an id (``genmedia status ENDPOINT REQUEST_ID``)."""


class BaseProvider:
    """Defaults for every optional member; ``submit``, ``status`` and ``result`` have none.

    ============================  ==========================================================
    member                        default
    ============================  ==========================================================
    ``name``, ``schemes``         ``""``, ``()`` — set your own
    ``catch_all``                 False
    ``options``                   ``()``: reads no run options at submit
    ``claims(endpoint_id)``       False: only ``scheme:`` prefixes and ``--provider`` choose it
    ``require_credentials()``     nothing (no credentials needed)
    ``credential()``              None (nothing to show in ``genmedia config``)
    ``search(query)``             an empty page
    ``schema(endpoint_id)``       NotFoundError: inputs are sent unchecked
    ``estimate(request)``         None: ``--dry-run`` shows no estimate
    ``upload(source)``            UsageError: local files cannot be given
    ``watch(handle)``             polls ``status`` every ``poll_interval`` seconds (0.5)
    ``cancel(handle)``            UsageError: jobs cannot be cancelled
    ``handle_for(endpoint, id)``  ``JobHandle(self.name, endpoint, id)``
    ============================  ==========================================================
    """

    name: str = ""
    schemes: tuple[str, ...] = ()
    catch_all: bool = False
    options: tuple[str, ...] = ()
    poll_interval: float = 0.5

    def claims(self, endpoint_id: str) -> bool:
        return False

    def require_credentials(self) -> None:
        return None

    def credential(self) -> Credential | None:
        return None

    def search(self, query: ModelQuery) -> ModelPage:
        from genmedia.types import ModelPage

        return ModelPage(models=[])

    def schema(self, endpoint_id: str) -> ModelSchema:
        raise errors.NotFoundError(f"{self.name} has no schema for {endpoint_id}")

    def estimate(self, request: RunRequest) -> Any:
        return None

    def upload(self, source: str, *, progress: ProgressFn | None = None) -> UploadedFile:
        raise errors.UsageError(f"The provider {self.name} does not take file uploads")

    def submit(self, request: RunRequest) -> JobHandle:
        raise NotImplementedError

    def status(self, handle: JobHandle, *, logs: bool = True) -> JobStatus:
        raise NotImplementedError

    def watch(
        self, handle: JobHandle, *, logs: bool = True, deadline: float | None = None
    ) -> Iterator[JobStatus]:
        while True:
            status = self.status(handle, logs=logs)
            yield status
            if status.done or (deadline is not None and time.monotonic() >= deadline):
                return
            time.sleep(self.poll_interval)

    def result(self, handle: JobHandle) -> RunResult:
        raise NotImplementedError

    def cancel(self, handle: JobHandle) -> CancelResult:
        raise errors.UsageError(f"The provider {self.name} cannot cancel jobs")

    def handle_for(self, endpoint_id: str, request_id: str) -> JobHandle:
        from genmedia.types import JobHandle

        return JobHandle(self.name, endpoint_id, request_id)


def missing_members(provider: Any) -> list[str]:
    """The contract members ``provider`` lacks (none for a :class:`BaseProvider`)."""
    if isinstance(provider, BaseProvider):
        return []
    return [name for name in MEMBERS if not hasattr(provider, name)]
