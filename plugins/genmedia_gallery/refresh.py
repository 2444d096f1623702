"""Automatic refresh: rebuild the gallery after a run without making the run wait.

The run spawns ``genmedia gallery build`` as a detached process (its own session, stdio
on the null device) and returns; spawning costs under a millisecond, the build itself
starts once the run has exited (at a lower priority), so it does not compete with the
run's last steps. Concurrent refreshes (several runs finishing at once) take a lock in
turn (``.refresh.lock`` in the gallery directory), and each build writes its files
atomically, so the gallery is always complete and the last build sees every run.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

LOCK = ".refresh.lock"
#: how long the build waits for the run that started it to exit (an embedding process,
#: e.g. a test runner, does not exit: then the build starts after this).
PARENT_WAIT = 1.0


def refresh_in_background(ctx: AppContext) -> None:
    """Start the build and return. On POSIX ``os.posix_spawn`` (no ``subprocess`` import,
    no fork of the run's memory: about half a millisecond); elsewhere ``subprocess``."""
    from genmedia_gallery.paths import default_out_dir

    out_dir = str(default_out_dir(ctx))
    args = [sys.executable, "-m", "genmedia_gallery.refresh", out_dir, str(os.getpid())]
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
            os.posix_spawn(sys.executable, args, env, file_actions=actions, setsid=True)
        else:  # pragma: no cover (Windows)
            import subprocess

            flags = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
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
    except OSError as exc:
        ctx.warn(f"the gallery could not be refreshed ({exc}); run: genmedia gallery build")


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


def main(out_dir: str, parent: int | None = None) -> int:
    """Yield to the run (lower priority; wait until it has exited, at most
    :data:`PARENT_WAIT` seconds), take the lock (waiting for an earlier refresh), build."""
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
        try:
            genmedia_main(["gallery", "build", "--out", out_dir])
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None))
