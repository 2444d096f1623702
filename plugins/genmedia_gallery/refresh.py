"""Automatic refresh: rebuild the gallery after a run without making the run wait.

The run spawns ``genmedia gallery build`` as a detached process (its own session, stdio
on the null device) and returns; spawning costs under a millisecond, the build itself
runs while the run prints its output and exits. Concurrent refreshes (several runs
finishing at once) take a lock in turn (``.refresh.lock`` in the gallery directory), and
each build writes its files atomically, so the gallery is always complete and the last
build sees every run.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

LOCK = ".refresh.lock"


def refresh_in_background(ctx: AppContext) -> None:
    """Start the build and return. On POSIX ``os.posix_spawn`` (no ``subprocess`` import,
    no fork of the run's memory: about half a millisecond); elsewhere ``subprocess``."""
    from genmedia_gallery.paths import default_out_dir

    args = [sys.executable, "-m", "genmedia_gallery.refresh", str(default_out_dir(ctx))]
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


def main(out_dir: str) -> int:
    """Take the lock (waiting for an earlier refresh), then build with the defaults."""
    from pathlib import Path

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
    raise SystemExit(main(sys.argv[1]))
