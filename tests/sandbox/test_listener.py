"""Narrow unit tests of ``genmedia_sandbox.listener.LazySandbox`` with a stub starter: the
races between its watcher thread and :meth:`~LazySandbox.stop` (a real socket, no server)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from genmedia_sandbox.listener import LazySandbox, listen

WAIT = 30.0


def test_a_stop_racing_the_first_connection_never_starts_the_server(tmp_path: Path) -> None:
    """The watcher has seen a pending connection when ``stop()`` begins: it must find the
    sandbox stopped, not start the server during shutdown."""
    started: list[socket.socket] = []
    lazy = LazySandbox(listen(), tmp_path, started.append)
    saw_connection, stop_woke = threading.Event(), threading.Event()
    ensure_started, wake = lazy.ensure_started, lazy._wake

    def watcher_ensure_started() -> object:  # what the watcher calls on a connection
        saw_connection.set()
        assert stop_woke.wait(WAIT)
        return ensure_started()

    def stop_wake() -> None:  # the watcher goes on the moment stop() wakes it
        wake()
        stop_woke.set()

    lazy.ensure_started = watcher_ensure_started  # type: ignore[method-assign]
    lazy._wake = stop_wake  # type: ignore[method-assign]
    client = socket.create_connection(("127.0.0.1", lazy.port), timeout=WAIT)
    try:
        assert saw_connection.wait(WAIT), "the watcher never saw the connection"
        lazy.stop(timeout=WAIT)
    finally:
        client.close()
    assert not lazy._watcher.is_alive()
    assert started == [] and lazy.server is None and not lazy.running
    assert lazy._wake_r.fileno() == -1 and lazy._wake_w.fileno() == -1
    lazy.stop()  # a second stop does nothing


def test_a_stop_after_the_start_stops_the_server_once(tmp_path: Path) -> None:
    stops: list[float] = []

    class Stub:
        running = True

        def stop(self, timeout: float) -> None:
            stops.append(timeout)

    lazy = LazySandbox(listen(), tmp_path, lambda sock: Stub())
    server = lazy.ensure_started()
    lazy.stop(timeout=7)
    lazy.stop(timeout=7)
    assert lazy.server is server and stops == [7]
    assert lazy._wake_r.fileno() == -1 and lazy._wake_w.fileno() == -1
