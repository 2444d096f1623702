"""The progress display on a terminal: one rich line on stderr (done / running / queued /
failed, rate, ETA), only when stderr is a TTY and ``--events`` is off. Agents and pipes
see nothing here: their progress is the NDJSON on stdout."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext


class Counts:
    """What the workers did in this run (thread-safe)."""

    def __init__(self, todo: int) -> None:
        self.lock = threading.Lock()
        self.todo = todo
        self.done = self.failed = self.running = 0
        self.started = time.monotonic()

    def add(self, **changes: int) -> None:
        with self.lock:
            for name, delta in changes.items():
                setattr(self, name, getattr(self, name) + delta)

    def line(self) -> str:
        with self.lock:
            finished = self.done + self.failed
            queued = max(0, self.todo - finished - self.running)
            elapsed = max(time.monotonic() - self.started, 1e-6)
            rate = finished / elapsed
            eta = f"{(self.todo - finished) / rate:.0f}s" if rate > 0 and finished else "?"
            return (
                f"[green]{self.done} done[/]  [cyan]{self.running} running[/]  "
                f"{queued} queued  [red]{self.failed} failed[/]  "
                f"{rate:.1f} jobs/s  ETA {eta}"
            )


class Display:
    """A live line on stderr while the batch runs (a no-op off a terminal)."""

    def __init__(self, ctx: AppContext, counts: Counts) -> None:
        self.counts = counts
        self.live: Any = None
        if ctx.stderr_is_tty and not ctx.events:
            from rich.console import Console
            from rich.live import Live
            from rich.text import Text

            console = Console(file=ctx.stderr)
            self._text = Text.from_markup
            self.live = Live(self._text(counts.line()), console=console, transient=True,
                             refresh_per_second=4, get_renderable=self._render)  # fmt: skip

    def _render(self) -> Any:
        return self._text(self.counts.line())

    def __enter__(self) -> Display:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.stop()
