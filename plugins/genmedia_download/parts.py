"""Part files of a download: their names, the state of one transfer, kept partials.

A download is written to ``<final>.<random>.part`` (:func:`new_part_path`), created with
``O_EXCL`` and ``O_NOFOLLOW``. After a failure with ``keep_partial`` the part stays with a
``<part>.json`` beside it (:class:`PartialState`); a later download of the same URL into
the same directory adopts it by renaming it (:func:`_adopt`). :mod:`.fetch` streams the
body; :mod:`.diskpipe` writes it; both share :class:`TransferState`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import attrs

from genmedia.media import SIDECAR_SUFFIX

from .sidecar import sidecar_path

#: the first bytes of the body kept for sniffing the media type.
HEAD_BYTES = 64
_OPEN_FLAGS = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = _OPEN_FLAGS | os.O_CREAT | os.O_EXCL
#: part names: at most this many bytes of the final name, then ``.<12 hex>.part``.
PART_STEM_BYTES = 200
PART_SUFFIX = ".part"
#: a kept partial's metadata is a few hundred bytes; anything bigger is not ours.
MAX_META_BYTES = 64 * 1024


class DownloadFailed(Exception):
    """A download that cannot succeed; ``str()`` is the message shown in the output."""


@attrs.frozen
class PartialState:
    """What ``<final>.part.json`` remembers so a later run can resume a kept ``.part``."""

    url: str
    validator: str
    total: int | None = None


@attrs.define
class TransferState:
    """One download's progress: bytes written, validator, running hash, first bytes."""

    url: str
    file_size: int | None
    written: int = 0
    attempt_start: int = 0
    validator: str | None = None
    total: int | None = None
    content_type: str | None = None
    head: bytes = b""
    hasher: Any = attrs.field(factory=hashlib.sha256)


def new_part_path(final: Path) -> Path:
    """A part file name beside ``final`` that no other process or file will use.

    ``<final name, cut to 200 bytes>.<12 random hex digits>.part``: unique to this process
    and this file (the file is created with ``O_EXCL``, so even a collision of the random
    part cannot make two downloads share it), and short enough that ``.json`` and a
    temporary name still fit in 255 bytes.
    """
    from genmedia_download.naming import fit_name

    stem = fit_name(final.name, PART_STEM_BYTES)
    return final.with_name(f"{stem}.{secrets.token_hex(6)}{PART_SUFFIX}")


def unlink_quietly(path: Path) -> None:
    """Remove ``path`` if it is there; never raises (a missing file, a name too long …)."""
    with contextlib.suppress(OSError, ValueError):
        os.unlink(path)


def _open_part(part: Path, state: TransferState) -> int:
    """Create ``part`` exclusively, first adopting a kept partial of the same URL if any."""
    saved = _adopt(part, state.url)
    if saved is not None:
        fd = _open_adopted(part, saved)
        if fd is not None:
            state.validator, state.total = saved.validator, saved.total
            state.written = os.fstat(fd).st_size
            try:
                _rehash(fd, state)
            except BaseException:
                os.close(fd)
                unlink_quietly(part)
                raise
            return fd
    try:
        return os.open(part, _CREATE_FLAGS, 0o666)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EEXIST):
            raise DownloadFailed(f"refusing to write through an existing {part}") from None
        raise DownloadFailed(f"cannot create {part}: {exc.strerror or exc}") from None


def _open_adopted(part: Path, saved: PartialState) -> int | None:
    """Open an adopted partial (now at ``part``); None (and it is gone) if it is unusable."""
    try:
        fd = os.open(part, _OPEN_FLAGS)
    except OSError:  # a symlink planted there (ELOOP), or it vanished
        unlink_quietly(part)
        return None
    info = os.fstat(fd)
    if (
        not stat.S_ISREG(info.st_mode)
        or info.st_nlink > 1
        or info.st_size <= 0
        or (saved.total is not None and info.st_size > saved.total)
    ):
        os.close(fd)
        unlink_quietly(part)  # never write through it: start a fresh file instead
        return None
    return fd


def _adopt(part: Path, url: str) -> PartialState | None:
    """Claim the largest kept partial of ``url`` in ``part``'s directory by renaming it.

    Kept partials are ``*.part`` files with a ``*.part.json`` beside them (only a run that
    gave up with ``--keep-partial`` writes one; a part being written has none). The rename
    is the claim: if another process renamed it first, ours fails and we try the next.
    """
    directory = part.parent
    found: list[tuple[int, Path, Path, PartialState]] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return None
    names = {entry.name for entry in entries}
    for entry in entries:
        if not entry.name.endswith(PART_SUFFIX + SIDECAR_SUFFIX):
            continue
        meta = Path(entry.path)
        kept_name = entry.name[: -len(SIDECAR_SUFFIX)]
        if kept_name not in names:
            unlink_quietly(meta)  # its partial was adopted or removed: stale
            continue
        saved = _read_meta(meta)
        if saved is None or saved.url != url:
            continue
        try:
            size = os.lstat(directory / kept_name).st_size
        except OSError:
            continue
        found.append((size, directory / kept_name, meta, saved))
    for _size, kept, meta, saved in sorted(found, key=lambda f: f[0], reverse=True):
        try:
            os.rename(kept, part)
        except OSError:
            continue  # another process adopted it first
        unlink_quietly(meta)
        return saved
    return None


def _rehash(fd: int, state: TransferState) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    left = state.written
    while left > 0:
        block = os.read(fd, min(1 << 20, left))
        if not block:
            break
        if len(state.head) < HEAD_BYTES:
            state.head += block[: HEAD_BYTES - len(state.head)]
        state.hasher.update(block)
        left -= len(block)


def _read_meta(meta: Path) -> PartialState | None:
    from genmedia.serialization import structure

    try:
        fd = os.open(meta, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            text = fh.read(MAX_META_BYTES + 1)
        if len(text) > MAX_META_BYTES:
            return None
        return structure(json.loads(text), PartialState)  # type: ignore[no-any-return]
    except Exception:
        return None


def _cleanup(part: Path, state: TransferState, keep_partial: bool) -> None:
    """After a failure: keep ``part`` plus its ``.json`` (resumable), or remove both.

    Never raises: it runs while another exception (a signal's, a full disk's) propagates.
    A ``.json`` that cannot be written (a full disk) leaves no temporary file behind, and
    the partial goes too, since nothing could resume it.
    """
    if keep_partial and state.written > 0 and state.validator:
        from genmedia.files import atomic_write
        from genmedia.serialization import unstructure

        saved = PartialState(state.url, state.validator, state.total)
        try:
            atomic_write(sidecar_path(part), json.dumps(unstructure(saved)), mode=0o600)
            return
        except Exception:  # OSError (ENOSPC, ENAMETOOLONG …): remove, below
            pass
    for path in (part, sidecar_path(part)):
        unlink_quietly(path)
