"""Move a finished part file to its final name: atomic, no clobbering, no symlinks.

The final name is claimed at commit time with a hard link, which the kernel refuses when
anything (a file, a symlink, even a dangling one) already has that name — including a
file another genmedia process committed a moment ago. The caller then picks the next
free name and tries again, so collision suffixes are decided against every process.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .parts import DownloadFailed, unlink_quietly


def commit(
    part: Path,
    final: Path,
    *,
    overwrite: bool,
    identity: tuple[int, int] | None = None,
    sync_dir: bool = True,
) -> bool:
    """Move the finished ``part`` to ``final``; returns False when ``final`` is taken.

    Without ``overwrite`` the move is a hard link (atomic, fails if ``final`` exists, even
    as a dangling symlink) then an unlink of ``part``. With ``overwrite`` an existing
    regular file is replaced atomically; a symlink or directory at ``final`` is refused.
    ``identity`` is the (device, inode) of the file that was written and hashed: the
    committed file must be that very file, or the commit fails (nothing is reported
    under a hash that is not the one of the bytes on disk).

    The directory is fsync-ed afterwards, so the new name survives a crash; a caller that
    commits under a lock passes ``sync_dir=False`` and calls :func:`sync_directory` once
    it has released it (a directory fsync can take milliseconds: not while others wait).
    """
    if identity is not None:
        _check_identity(part, identity)
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
            if not _claim_without_links(part, final):
                return False
        else:
            if identity is not None:
                try:
                    _check_identity(final, identity)
                except DownloadFailed:
                    unlink_quietly(final)  # our link, to a file we did not write
                    raise
            os.unlink(part)
    if sync_dir:
        sync_directory(final.parent)
    return True


def _check_identity(path: Path, identity: tuple[int, int]) -> None:
    info = os.lstat(path)
    if (info.st_dev, info.st_ino) != identity:
        raise DownloadFailed(f"{path} was replaced by another process while it was written")


def _claim_without_links(part: Path, final: Path) -> bool:
    """Where hard links are not supported: reserve ``final`` with an exclusive empty file,
    then rename the part over it (another process's ``O_EXCL`` fails on the reservation)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.close(os.open(final, flags, 0o600))
    except FileExistsError:
        return False
    try:
        os.replace(part, final)
    except BaseException:
        unlink_quietly(final)
        raise
    return True


def sync_directory(directory: Path) -> None:
    """fsync ``directory`` (its entries survive a crash); best effort, never raises."""
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
