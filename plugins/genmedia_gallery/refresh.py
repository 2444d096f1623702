"""Automatic refresh: rebuild the gallery after a run without making the run wait.

The run spawns ``genmedia gallery build`` as a detached process (its own session, stdio
on the null device) and returns; spawning costs under a millisecond. The build runs at a
lower priority and starts once the run has exited, so it does not compete with the run's
last steps. Each build writes its files atomically, so the gallery is always complete.

Bursts are coalesced, so a script firing many runs starts at most one waiting build, not
one per run. Two ``flock`` locks in the gallery directory:

- ``.refresh.queued``: held by the one build that is waiting to start. A run that finds
  it taken starts nothing: that build has not read the journal yet, so it will include
  this run (whose journal row is complete before the sink runs). Otherwise the run takes
  it and hands it to the build it spawns (an inherited descriptor).
- ``.refresh.lock``: held while building. A queued build takes it (waiting for the
  running one), then lets go of ``.refresh.queued`` and reads the journal.

Without ``fcntl`` (Windows) every run starts a build; the builds are still atomic.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

LOCK = ".refresh.lock"
QUEUED = ".refresh.queued"
#: how long the build waits for the run that started it to exit (an embedding process,
#: e.g. a test runner, does not exit: then the build starts after this).
PARENT_WAIT = 1.0


def refresh_in_background(ctx: AppContext) -> None:
    """Start the build (unless one is already queued) and return. On POSIX
    ``os.posix_spawn`` (no ``subprocess`` import, no copy of the run's memory)."""
    from genmedia_gallery.paths import default_out_dir

    out_dir = default_out_dir(ctx)
    try:
        queued = _take_queued(str(out_dir))
        if queued == -1:
            return  # a build is waiting to start; it will include this run
        _spawn(str(out_dir), queued)
    except OSError as exc:
        ctx.warn(f"the gallery could not be refreshed ({exc}); run: genmedia gallery build")


def _take_queued(out_dir: str) -> int | None:
    """The descriptor holding ``.refresh.queued``; -1 when another build holds it; None
    without ``fcntl``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        return None
    os.makedirs(out_dir, exist_ok=True)
    fd = os.open(os.path.join(out_dir, QUEUED), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return -1
    except BaseException:
        os.close(fd)
        raise
    return fd


def _spawn(out_dir: str, queued: int | None) -> None:
    args = [sys.executable, "-m", "genmedia_gallery.refresh", out_dir, str(os.getpid())]
    if queued is not None:
        args.append(str(queued))
    env = dict(os.environ)
    env["GENMEDIA_OUTPUT"] = "json"
    try:
        if hasattr(os, "posix_spawn"):
            null = os.devnull
            actions = [
                (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0),
            ]
            if queued is not None:
                os.set_inheritable(queued, True)
            os.posix_spawn(sys.executable, args, env, file_actions=actions, setsid=True)
        else:  # pragma: no cover (Windows)
            _spawn_windows(args, env)
    finally:
        if queued is not None:
            os.close(queued)  # the build's inherited copy keeps the lock


def _spawn_windows(args: list[str], env: dict[str, str]) -> None:  # pragma: no cover
    import subprocess

    flags: Any = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
        subprocess, "CREATE_NEW_PROCESS_GROUP", 0
    )
    subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        creationflags=flags,
    )


def _wait_for_exit(pid: int, timeout: float) -> None:
    """Let the run finish first: wait (up to ``timeout``) until process ``pid`` is gone."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except OSError:  # exists, but not ours to signal: it is alive
            pass
        time.sleep(0.01)


def main(out_dir: str, parent: int | None = None, queued: int | None = None) -> int:
    """Yield to the run (lower priority; wait until it has exited, at most
    :data:`PARENT_WAIT` seconds), take the build lock, release the queued lock, build."""
    from pathlib import Path

    if hasattr(os, "nice"):
        try:
            os.nice(10)
        except OSError:  # pragma: no cover
            pass
    if parent and os.name != "nt":
        _wait_for_exit(parent, PARENT_WAIT)

    from genmedia.cli import main as genmedia_main

    lock_path = Path(out_dir) / LOCK
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as lock:
        try:
            import fcntl

            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover (Windows: builds are atomic anyway)
            pass
        if queued is not None:
            os.close(queued)  # from now on a finishing run queues the next build
        try:
            genmedia_main(["gallery", "build", "--out", out_dir])
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    numbers = [int(a) for a in sys.argv[2:4]]
    raise SystemExit(main(sys.argv[1], *numbers))
