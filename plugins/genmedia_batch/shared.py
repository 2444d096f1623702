"""What the workers of a batch share: the :class:`Gate` before every submit (the rate
limit and one back-off for all) and the providers whose uploads are done once per file
content (:class:`UploadModels`)."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any

from genmedia_batch.plan import Models

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import UploadedFile


class Gate:
    """The submission rate limit and the back-off every worker shares."""

    def __init__(self, rate: float) -> None:
        self.lock = threading.Lock()
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.until = 0.0
        self.next_slot = 0.0
        self.holds = 0

    def hold(self, seconds: float) -> None:
        with self.lock:
            self.until = max(self.until, time.monotonic() + seconds)
            self.holds += 1

    def on_response(self, response: Any) -> None:
        """httpx response hook: a 429 anywhere holds every submit for its Retry-After."""
        if response.status_code == 429:
            from genmedia.http import parse_retry_after

            advised = parse_retry_after(response.headers.get("retry-after"))
            self.hold(min(advised if advised is not None else 1.0, 30.0))

    def wait(self, stop: threading.Event) -> bool:
        """Block until this worker may submit; False when stopping."""
        while True:
            with self.lock:
                now = time.monotonic()
                ready = max(self.until, self.next_slot)
                if now >= ready:
                    self.next_slot = max(now, self.next_slot) + self.interval
                    return True
            if stop.wait(min(ready - now, 0.25)):
                return False


class DedupUploads:
    """The provider, with ``upload`` done once per file content for the whole batch."""

    def __init__(self, provider: Any) -> None:
        self._provider = provider
        self._lock = threading.Lock()
        self._done: dict[str, UploadedFile] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)

    def upload(self, source: str, *, progress: Any = None) -> UploadedFile:
        digest = hashlib.sha256()
        try:
            with open(source, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            key = digest.hexdigest()
        except OSError:
            key = f"path:{source}"
        with self._lock:  # one upload per content, even when two workers meet it
            found = self._done.get(key)
            if found is None:
                found = self._done[key] = self._provider.upload(source, progress=progress)
            return found


class UploadModels(Models):
    """:class:`Models` whose providers upload each content once."""

    def get(self, endpoint: str) -> tuple[Any, Any]:
        with self.lock:
            provider, schema = super().get(endpoint)
            wrapped = self.wrapped.get(provider.name)
            if wrapped is None:
                wrapped = self.wrapped[provider.name] = DedupUploads(provider)
            return wrapped, schema

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, paid=True)
        self.lock = threading.RLock()
        self.wrapped: dict[str, DedupUploads] = {}
