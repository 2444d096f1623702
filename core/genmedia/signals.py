"""SIGTERM and SIGHUP handled like Ctrl-C (public helper).

A process manager (``timeout``, systemd, a CI runner, an agent's supervisor) stops genmedia
with SIGTERM; a closed terminal sends SIGHUP. Both must leave what Ctrl-C leaves: no partial
download (unless ``--keep-partial``), the journal row marked ``interrupted``, and the error
object with the request id and the command that resumes the job.

:func:`handling_signals` (used by the CLI entry point around each invocation) installs a
handler that raises :class:`SignalInterrupt`, a :class:`KeyboardInterrupt` subclass, in the
main thread, so every existing Ctrl-C path runs unchanged. The error boundary then gives
the exit code of the signal (128 + its number: SIGHUP 129, SIGTERM 143; see
docs/exit-codes.md) through :func:`apply_signal`.

Only the first signal interrupts; later ones are ignored so that the cleanup they would
otherwise cut short (removing partial files, writing the journal, printing the error) can
finish. SIGKILL still stops the process at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from genmedia.errors import EXIT_INTERRUPTED

#: signal name → its number, for the signals handled (those this platform has).
HANDLED: dict[str, int] = {
    name: getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
}

_state: dict[str, Any] = {"received": None, "armed": False}


class SignalInterrupt(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM or SIGHUP arrives (handled like Ctrl-C)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(self.signal_name)


def received() -> int | None:
    """The number of the signal that interrupted this invocation, or None."""
    return _state["received"]  # type: ignore[no-any-return]


def exit_code_for(signum: int) -> int:
    return 128 + signum


def _handler(signum: int, _frame: Any) -> None:
    if _state["received"] is not None:
        return  # already stopping: let the cleanup finish
    _state["received"] = signum
    if _state["armed"]:
        raise SignalInterrupt(signum)


def disarm() -> None:
    """From now on a signal is recorded but raises nothing (the error is being printed)."""
    _state["armed"] = False


@contextmanager
def handling_signals() -> Iterator[None]:
    """Install the SIGTERM/SIGHUP handler for the duration of one invocation (main thread
    only; elsewhere, e.g. genmedia embedded in a server thread, nothing is installed)."""
    _state.update(received=None, armed=True)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in HANDLED.values():
            try:
                previous[signum] = signal.signal(signum, _handler)
            except (ValueError, OSError):  # pragma: no cover - exotic embedders
                pass
    try:
        yield
    finally:
        _state["armed"] = False
        for signum, old in previous.items():
            try:
                signal.signal(signum, old)
            except (ValueError, OSError, TypeError):  # pragma: no cover
                pass


def apply_signal(report: Any, exc: BaseException) -> Any:
    """An interruption caused by SIGTERM/SIGHUP: the signal's exit code, ``details.signal``
    and the signal named in the message. Other reports are returned unchanged."""
    import attrs

    signum = exc.signum if isinstance(exc, SignalInterrupt) else received()
    if signum is None:
        return report
    if report.exit_code != EXIT_INTERRUPTED and not isinstance(exc, KeyboardInterrupt):
        return report
    name = signal.Signals(signum).name
    details = report.details
    if details is None:
        details = {}
    if isinstance(details, dict):
        details = {**details, "signal": name}
    message = report.error
    if message.startswith("Interrupted"):
        message = f"Interrupted by {name}" + message[len("Interrupted") :]
    return attrs.evolve(report, error=message, details=details, exit_code=exit_code_for(signum))
