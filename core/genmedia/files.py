"""File helpers for plugins (public): atomic writes that never leave a half-written file.

``atomic_write(path, data, mode=0o600)`` writes to a temporary file in the same directory
with its final mode set on the descriptor before any byte is written, fsyncs it, then
renames it over ``path`` (a symlink at ``path`` is replaced, never written through). On
any failure the temporary file is removed and ``path`` is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path | str, data: str | bytes, *, mode: int = 0o600) -> None:
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # POSIX; mkstemp's file is already private elsewhere
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def is_file(path: Path | str) -> bool:
    """``Path.is_file`` that never raises: a name too long for the OS, a NUL byte or any
    other unusable path is simply not a file (odd input is the caller's usage error)."""
    try:
        return Path(path).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):
        return False
