"""The emulator's state: one :class:`Sandbox` shared by the ASGI app and the test-side handle.

Route handlers receive it as their first argument; :mod:`.app` adds the ASGI entry
point on top of it (:class:`~genmedia_sandbox.app.SandboxApp`).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from . import faults as faultmod
from .assets import AssetsState
from .catalog import Catalog
from .listener import role_urls
from .queue import QueueEngine
from .records import RequestLogEntry
from .storage import Storage
from .store import Store
from .validation import InputValidator, PlatformValidator, ValidationIssue


class Sandbox:
    """All emulator state, shared by the ASGI app (event loop) and the test-side handle."""

    def log_internal_error(self) -> None:
        """Append the current exception's traceback to ``errors.log`` in the store."""
        import time
        import traceback

        try:
            with open(self.store.root / "errors.log", "a", encoding="utf-8") as log:
                log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
                log.write(traceback.format_exc())
        except OSError:
            pass

    def __init__(
        self,
        *,
        validate_platform: bool = True,
        store: Store | None = None,
        result_ttl: float = 3600.0,
        token_ttl: float = 3600.0,
        log_window: int = 3,
    ) -> None:
        self.store = store or Store.temporary_store()
        self.result_ttl = result_ttl
        self.token_ttl = token_ttl
        self.log_window = log_window
        self.catalog = Catalog()
        self.storage = Storage(self.store)
        self.faults = faultmod.FaultRegistry()
        self.input_validator = InputValidator()
        self.platform_validator = PlatformValidator()
        self.validate_platform = validate_platform
        self.requests: list[RequestLogEntry] = []
        self.validation_errors: list[ValidationIssue] = []
        self.issue_total = 0  # never reset: lets fixtures see issues recorded during a test
        self.base_url = ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.queue = QueueEngine(self)
        self.assets = AssetsState()

    @property
    def idempotency(self) -> dict[str, Any]:
        """Assets API Idempotency-Key → [fingerprint, status, body, content type] (stored)."""
        doc = self.store.read_doc("assets")
        found = doc.get("idempotency") if isinstance(doc, dict) else None
        return dict(found or {})

    @property
    def urls(self) -> dict[str, str]:
        return role_urls(self.base_url)

    def reset_state(self) -> None:
        self.faults.clear()
        self.queue.reset()
        self.storage.reset()
        self.assets.reset()
        self.store.reset()
        with self._lock:
            self.requests.clear()
            self.validation_errors.clear()

    def log(self, entry: RequestLogEntry) -> None:
        with self._lock:
            self.requests.append(entry)

    def record_issue(self, issue: ValidationIssue) -> None:
        with self._lock:
            self.validation_errors.append(issue)
            self.issue_total += 1
