"""Run one command in-process, in JSON mode, with its own streams, on its own thread.

A tool call is ``genmedia --json --events [server's global options] COMMAND …`` run
through the same root group and error boundary as the console script, with an
:class:`~genmedia.context.AppContext` whose stdout is a buffer (the one JSON document),
whose stdin holds the ``input`` object, and whose stderr parses the NDJSON event stream
as it is written (``submitted``, ``status``, ``log``, ``progress``… are handed to
``on_event``; the line without ``"event"`` is the error object).

Each call runs on a dedicated thread, so the server's event loop stays responsive and a
cancelled call can be interrupted the way Ctrl-C interrupts the CLI:
:meth:`Invocation.interrupt` raises :class:`KeyboardInterrupt` inside that thread, and the
command's own Ctrl-C policy applies (the job keeps running, the journal has its request
id, the error names it and the command that resumes it).
"""

from __future__ import annotations

import ctypes
import io
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

import attrs

EventCallback = Callable[[dict[str, Any]], None]


@attrs.define
class Outcome:
    """What one invocation produced: the exit code, the document, the error object."""

    exit_code: int
    document: Any = None
    error: dict[str, Any] | None = None
    events: list[dict[str, Any]] = attrs.field(factory=list)
    stdout: str = ""
    stray_stderr: str = ""


class EventStream(io.TextIOBase):
    """A stderr that reads the ``--events`` NDJSON stream line by line as it comes."""

    def __init__(self, on_event: EventCallback | None = None) -> None:
        super().__init__()
        self._on_event = on_event
        self._pending = ""
        self.events: list[dict[str, Any]] = []
        self.other: list[str] = []
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            lines = self._pending.split("\n")
            self._pending = lines.pop()
        for line in lines:
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        try:
            obj = json.loads(line)
        except ValueError:
            self.other.append(line)
            return
        if isinstance(obj, dict) and "event" in obj:
            self.events.append(obj)
            if self._on_event is not None:
                try:
                    self._on_event(obj)
                except Exception:  # a lost progress notification never fails the call
                    pass
        else:
            self.other.append(line)

    def finish(self) -> None:
        if self._pending:
            self._line(self._pending)
            self._pending = ""


class Invocation:
    """``genmedia ARGV`` in-process on a thread of its own; see the module docstring."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        stdin: str | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        self.argv = ["--json", "--events", *argv]
        self._stdin = stdin
        self._stderr = EventStream(on_event)
        self._lock = threading.Lock()
        self._thread_id: int | None = None
        self._running = False
        self.outcome: Outcome | None = None
        self.done = threading.Event()
        self.interrupted = False

    def start(self) -> None:
        threading.Thread(target=self.run, name="genmedia-mcp-call", daemon=True).start()

    def run(self) -> None:
        """Run the command on the calling thread (``start`` runs it on a new one)."""
        try:
            with self._lock:
                self._thread_id = threading.get_ident()
                self._running = True
            try:
                code = self._invoke()
            finally:
                with self._lock:
                    self._running = False
            self.outcome = self._outcome(code)
        except KeyboardInterrupt:  # an interrupt that came after the command ended
            self.outcome = self.outcome or self._outcome(130)
        except BaseException as exc:  # never lose a call: an error object, always
            self.outcome = Outcome(1, error={"error": f"{type(exc).__name__}: {exc}"})
        finally:
            self.done.set()

    def _invoke(self) -> int:
        from genmedia.cli import make_cli
        from genmedia.context import AppContext

        self._stdout = io.StringIO()
        app = AppContext(
            json_flag=True,
            events=True,
            stdout=self._stdout,
            stderr=self._stderr,  # type: ignore[arg-type]
            stdin=io.StringIO(self._stdin or ""),
        )
        try:
            make_cli().main(list(self.argv), prog_name="genmedia", obj=app)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return 0

    def _outcome(self, code: int) -> Outcome:
        self._stderr.finish()
        text = getattr(self, "_stdout", io.StringIO()).getvalue()
        document: Any = None
        if text.strip():
            try:
                document = json.loads(text)
            except ValueError:
                document = text
        error = None
        stray: list[str] = []
        for line in self._stderr.other:
            try:
                obj = json.loads(line)
            except ValueError:
                stray.append(line)
                continue
            if isinstance(obj, dict) and "error" in obj:
                error = obj
        if code != 0 and error is None and document is None:
            error = {"error": "\n".join(stray) or f"the command failed (exit {code})"}
        return Outcome(code, document, error, self._stderr.events, text, "\n".join(stray))

    def interrupt(self) -> bool:
        """Ctrl-C for this call: :class:`KeyboardInterrupt` in its thread, if still running."""
        with self._lock:
            if not self._running or self._thread_id is None:
                return False
            self.interrupted = True
            hit = ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread_id), ctypes.py_object(KeyboardInterrupt)
            )
            return bool(hit == 1)
