"""Move a finished ``.part`` file to its final name: atomic, no clobbering, no symlinks."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .fetch import DownloadFailed


def commit(part: Path, final: Path, *, overwrite: bool) -> bool:
    """Move the finished ``part`` to ``final``; returns False when ``final`` is taken.

    Without ``overwrite`` the move is a hard link (atomic, fails if ``final`` exists, even
    as a dangling symlink) then an unlink of ``part``. With ``overwrite`` an existing
    regular file is replaced atomically; a symlink or directory at ``final`` is refused.
    """
    import stat

    try:
        info = os.lstat(final)
    except FileNotFoundError:
        info = None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            if overwrite:
                raise DownloadFailed(f"refusing to replace a symlink: {final}")
            return False
        if not overwrite or stat.S_ISDIR(info.st_mode):
            return False
        os.replace(part, final)
    else:
        try:
            os.link(part, final, follow_symlinks=False)
        except FileExistsError:
            return False
        except OSError as exc:  # no hard links here (some network/FAT file systems)
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if os.path.lexists(final):
                return False
            os.replace(part, final)
        else:
            os.unlink(part)
    _fsync_dir(final.parent)
    return True


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
