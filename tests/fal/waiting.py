"""Waiting on the emulator's view of a job, shared by the fal tests."""

from __future__ import annotations

import time
from typing import Any


def wait_cancelled(job: Any, seconds: float = 3) -> bool:
    """Whether the emulator marks ``job`` cancelled within ``seconds`` (a cancel is sent
    after the command's own error handling, so it may land a moment later)."""
    deadline = time.monotonic() + seconds
    while not job.cancelled and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(job.cancelled)
