"""Where the emulator listens: the bound socket, the role URLs, and the lazy start.

Standard library only: ``genmedia --sandbox`` imports this module in every command, and a
command that never talks to fal (``run ENDPOINT --help`` from the schema cache,
``history``, ``plugins``, ``config list``) must not pay for uvicorn and starlette.

:class:`LazySandbox` binds and listens at once, so the URLs are known before anything
is served, and a daemon thread waits in ``select`` on the listening socket. The first
pending connection makes it start the real server on that same socket (uvicorn's
``Server.run(sockets=[sock])``), which then accepts it: a client that connects before
the server is up waits in the kernel's listen backlog, it is never refused or reset.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

#: Host roles served on the one port, with their path prefixes.
ROLE_PREFIXES: dict[str, str] = {
    "queue": "/queue",
    "run": "/run",
    "rest": "/rest",
    "api": "/api/v1",
    "cdn": "/cdn",
    "docs": "/docs/mcp",
    "control": "/_sandbox",
}
#: Connections the kernel queues before the server accepts them (uvicorn re-listens with
#: its own backlog once it serves the socket).
BACKLOG = 128


def role_urls(base_url: str) -> dict[str, str]:
    """Role → base URL (queue, run, rest, api, cdn, docs) of an emulator at ``base_url``."""
    return {role: base_url + prefix for role, prefix in ROLE_PREFIXES.items() if role != "control"}


def listen(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: a free port) and listening; OSError if busy."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class LazySandbox:
    """A listening socket whose emulator starts on the first connection (or on demand).

    ``start(sock)`` starts the server on ``sock`` and returns its handle (a
    :class:`~genmedia_sandbox.server.SandboxServer`); it runs once, in the watcher thread
    when a client connects, or in the caller of :meth:`ensure_started`. If it fails, the
    socket is closed, so waiting clients fail at once instead of hanging, and the error
    is kept in :attr:`error`.
    """

    def __init__(self, sock: socket.socket, home: Path, start: Callable[[socket.socket], Any]):
        self.home = home
        self.port: int = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.error: BaseException | None = None
        self._sock = sock
        self._start = start
        self._server: Any = None
        self._closed = False
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._watcher = threading.Thread(
            target=self._watch, name=f"genmedia-sandbox-watch-{self.port}", daemon=True
        )
        self._watcher.start()

    @property
    def urls(self) -> dict[str, str]:
        """Role → base URL: queue, run, rest, api, cdn, docs (known before any start)."""
        return role_urls(self.base_url)

    @property
    def server(self) -> Any:
        """The started server's handle, or None while nothing connected."""
        return self._server

    @property
    def running(self) -> bool:
        """Listening (not stopped, no failed start) and, once started, still serving."""
        server = self._server
        if self._closed or self.error is not None:
            return False
        return server is None or bool(server.running)

    def ensure_started(self) -> Any:
        """Start the server now if it is not running yet; its handle."""
        with self._lock:
            if self._server is None:
                if self._closed:
                    raise RuntimeError("the sandbox was stopped")
                if self.error is not None:
                    raise RuntimeError(f"the sandbox failed to start: {self.error}")
                try:
                    self._server = self._start(self._sock)
                except BaseException as exc:
                    self.error = exc
                    self._sock.close()  # clients in the backlog get a reset, not a hang
                    raise
                finally:
                    self._wake()  # the watcher has nothing left to do
            return self._server

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching, and stop the server if it started; closes the socket either way.

        Closed first, under the lock: a watcher that already saw a pending connection then
        finds the sandbox stopped instead of starting the server during shutdown, and a
        start in progress finishes before this reads :attr:`server`.
        """
        with self._lock:
            already, self._closed = self._closed, True
            server = self._server
        self._wake()
        self._watcher.join(timeout)
        if not already:
            if server is not None:
                server.stop(timeout)  # uvicorn closes the socket it served
            self._sock.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _watch(self) -> None:
        with selectors.DefaultSelector() as selector:
            try:
                selector.register(self._sock, selectors.EVENT_READ, "connection")
                selector.register(self._wake_r, selectors.EVENT_READ, "wake")
            except (OSError, ValueError):  # stopped before the watcher ran
                return
            while True:
                ready = {key.data for key, _ in selector.select()}
                if "wake" in ready:
                    return
                if "connection" in ready:
                    break
        with contextlib.suppress(BaseException):  # kept in self.error; the socket is closed
            self.ensure_started()

    def __repr__(self) -> str:
        state = "started" if self._server is not None else "waiting"
        return f"<LazySandbox {self.base_url} {state}>"
