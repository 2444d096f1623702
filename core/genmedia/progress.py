"""Byte progress for transfers: a rich bar on a terminal's stderr, nothing otherwise.

Plugins use :func:`transfer_progress` for uploads and downloads::

    with transfer_progress(ctx, "upload cat.png") as progress:
        provider.upload(path, progress=progress)   # progress(done, total) or None

``progress`` is None when nothing should be drawn (JSON mode, stderr not a terminal), so
callers skip the bookkeeping entirely. In JSON mode with ``--events`` the callbacks
stream ``{"event": "progress", "label", "done", "total"}`` lines instead of bars (one per
10% of a known size, or per 8 MiB of an unknown one, and the last one).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

#: ``progress(done, total)`` for uploads and downloads: bytes done, total bytes or None.
ProgressFn = Callable[[int, "int | None"], None]


EVENT_STEP_UNKNOWN = 8 * 1024 * 1024


def average_speed(done: float, elapsed: float | None) -> float | None:
    """Bytes per second over the whole transfer; None when it cannot be told."""
    if not done or not elapsed or elapsed <= 0:
        return None
    return done / elapsed


def wants_progress(ctx: AppContext) -> bool:
    if ctx.json_mode:
        return bool(ctx.events)
    return ctx.stderr_is_tty


@contextlib.contextmanager
def transfer_progress(ctx: AppContext, label: str) -> Iterator[ProgressFn | None]:
    """One task's progress bar; yields ``progress(done_bytes, total_bytes_or_None)``."""
    if not wants_progress(ctx):
        yield None
        return
    with multi_progress(ctx) as add_task:
        yield add_task(label)


@contextlib.contextmanager
def multi_progress(ctx: AppContext) -> Iterator[Callable[[str], ProgressFn]]:
    """Several bars at once (parallel downloads): ``add_task(label)`` returns a callback."""
    if ctx.json_mode:
        yield _event_tasks(ctx)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    class SpeedColumn(TransferSpeedColumn):
        """rich's speed, or bytes / elapsed time for a transfer too short to be sampled
        (rich shows ``?`` for a small file that finished in one update)."""

        def render(self, task: Any) -> Any:
            if task.finished_speed is None and task.speed is None:
                speed = average_speed(task.completed, task.elapsed)
                if speed is not None:
                    from rich.filesize import decimal
                    from rich.text import Text

                    return Text(f"{decimal(int(speed))}/s", style="progress.data.speed")
            return super().render(task)

    console = Console(file=ctx.stderr, stderr=True)
    lock = threading.Lock()
    with Progress(
        TextColumn("{task.description}", markup=False),  # file names are data
        BarColumn(),
        DownloadColumn(),
        SpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:

        def add_task(label: str) -> ProgressFn:
            with lock:
                task = bar.add_task(label, total=None)

            def update(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            return update

        yield add_task


def _event_tasks(ctx: AppContext) -> Callable[[str], ProgressFn]:
    """``add_task`` for ``--events``: progress as NDJSON lines, thread-safe, thinned out."""
    lock = threading.Lock()

    def add_task(label: str) -> ProgressFn:
        last = [-1]

        def update(done: int, total: int | None) -> None:
            step = done * 10 // total if total else done // EVENT_STEP_UNKNOWN
            if step == last[0]:
                return
            last[0] = step
            with lock:
                ctx.event("progress", label=label, done=done, total=total)

        return update

    return add_task
