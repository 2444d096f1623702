"""Fetch one URL into a private ``.part`` file: streaming, verified, resumable, never half-written.

:func:`fetch` streams the body with the shared keep-alive client into a part file in the
destination directory whose name is unique to this process and this file
(``<final>.<random>.part``, see :func:`genmedia_download.parts.new_part_path`), created
with ``O_EXCL`` and ``O_NOFOLLOW``, so parallel genmedia processes writing into one
directory never share a file. It hashes the body with SHA-256 on the way and checks the
byte count against ``Content-Length``/``Content-Range`` and the result's ``file_size``.
Resets, timeouts, short bodies and 429/5xx answers are retried with
:func:`genmedia.http.retry_call` (``Retry-After`` honoured); when the server gave a strong
validator, a retry resumes with ``Range`` + ``If-Range`` and accepts only a 206 whose
``Content-Range`` continues exactly where the file stops (anything else restarts from
zero).

The part file is deleted on any failure or interruption (any ``BaseException``), unless
``keep_partial`` — then ``<part>.json`` beside it records the URL and the validator. A
later fetch of the same URL into the same directory *adopts* such a kept partial: it
renames it to its own part name (a rename is atomic, so of two processes racing for it
exactly one wins; the loser starts from zero) and resumes it.
:func:`genmedia_download.commit.commit` then moves the finished file to its final name.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from genmedia.http import RetryPolicy, is_transport_error, retry_call
from genmedia_download.diskpipe import DiskPipe, write_block
from genmedia_download.parts import (
    HEAD_BYTES,
    DownloadFailed,
    TransferState,
    _cleanup,
    _open_part,
)

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.progress import ProgressFn

#: the retry budget of one download between two moments of progress.
POLICY = RetryPolicy(attempts=5, base=0.25, cap=4.0, total=60.0)
#: how many times a download that keeps making progress may reconnect.
MAX_RECONNECTS = 50
#: bytes gathered before one write (and one hash update): fewer, larger system calls.
WRITE_BYTES = 1 << 20
#: a chunk at least this big is written as it is, without gathering (no copy): with 256 KiB
#: socket reads (readsize.py) most chunks of a big body are.
DIRECT_BYTES = 256 * 1024
#: bodies larger than this are written and hashed on a helper thread (see diskpipe.py).
PIPE_MIN_BYTES = 8 << 20
PROGRESS_BYTES = 256 * 1024
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+)\s*$")


class Cancelled(Exception):
    """The run is being interrupted (Ctrl-C): stop, clean up."""


class _Incomplete(Exception):
    """The body ended before the announced size (retryable: resume)."""


@attrs.frozen
class Fetched:
    size: int
    sha256: str
    content_type: str | None
    head: bytes
    #: (st_dev, st_ino) of the part file: the commit checks it links these very bytes.
    identity: tuple[int, int] = (0, 0)


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, _Incomplete):
        return True
    return is_transport_error(exc) and not isinstance(exc, httpx.UnsupportedProtocol)


def fetch(
    client: httpx.Client,
    url: str,
    part: Path,
    *,
    file_size: int | None = None,
    keep_partial: bool = False,
    cancel: threading.Event | None = None,
    progress: ProgressFn | None = None,
    policy: RetryPolicy = POLICY,
    on_retry: Callable[[int, float, str], None] | None = None,
) -> Fetched:
    """Download ``url`` into ``part`` (created, or resumed from a kept partial)."""
    if urlsplit_scheme(url) not in ("http", "https"):
        raise DownloadFailed(f"not an http(s) URL: {url}")
    cancel = cancel or threading.Event()
    state = TransferState(url=url, file_size=file_size)
    fd = _open_part(part, state)
    try:
        out = os.fdopen(fd, "r+b", buffering=0)
    except BaseException:
        os.close(fd)
        _cleanup(part, state, keep_partial=False)
        raise
    try:
        info = os.fstat(out.fileno())
        out.seek(state.written)
        _download(client, out, state, cancel, progress, policy, on_retry)
        out.flush()
        os.fsync(out.fileno())
    except BaseException as exc:
        out.close()
        _cleanup(part, state, keep_partial)
        if isinstance(exc, (DownloadFailed, Cancelled)) or not isinstance(exc, Exception):
            raise  # KeyboardInterrupt, SystemExit from a signal handler … after the cleanup
        if isinstance(exc, OSError):
            raise DownloadFailed(f"cannot write {part}: {exc.strerror or exc}") from None
        if isinstance(exc, httpx.HTTPError):
            raise DownloadFailed(_describe(exc, state)) from None
        raise
    out.close()
    return Fetched(
        state.written,
        state.hasher.hexdigest(),
        state.content_type,
        state.head,
        (info.st_dev, info.st_ino),
    )


def urlsplit_scheme(url: str) -> str:
    return url.split(":", 1)[0].lower() if ":" in url else ""


def _describe(exc: BaseException, state: TransferState) -> str:
    text = str(exc) or type(exc).__name__
    text = f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
    if state.written:
        total = state.total if state.total is not None else state.file_size
        return (
            f"stopped after {state.written} of {total if total is not None else '?'} bytes: {text}"
        )
    return text


def _download(
    client: httpx.Client,
    out: Any,
    state: TransferState,
    cancel: threading.Event,
    progress: ProgressFn | None,
    policy: RetryPolicy,
    on_retry: Callable[[int, float, str], None] | None,
) -> None:
    def sleep(delay: float) -> None:
        if cancel.wait(delay):
            raise Cancelled()

    def no_progress_retry(exc: BaseException) -> bool:
        return retryable(exc) and state.written == state.attempt_start

    def should_retry(value: Any) -> bool:
        return isinstance(value, httpx.Response) and value.status_code in policy.statuses

    reconnects = 0
    while True:
        try:
            value = retry_call(
                lambda: _attempt(client, out, state, cancel, progress, policy),
                policy,
                should_retry=should_retry,
                retry_exception=no_progress_retry,
                on_retry=on_retry,
                sleep=sleep,
            )
        except Exception as exc:
            # Progress was made before the failure: reconnect at once with a fresh budget.
            if (
                retryable(exc)
                and state.written > state.attempt_start
                and reconnects < MAX_RECONNECTS
            ):
                reconnects += 1
                if on_retry is not None:
                    on_retry(reconnects, 0.0, f"{type(exc).__name__} after {state.written} bytes")
                continue
            if isinstance(exc, _Incomplete):
                raise DownloadFailed(str(exc)) from None
            raise
        if isinstance(value, httpx.Response):
            reason = value.reason_phrase or httpx.codes.get_reason_phrase(value.status_code)
            raise DownloadFailed(f"{value.status_code} {reason}".strip())
        return


def _attempt(
    client: httpx.Client,
    out: Any,
    state: TransferState,
    cancel: threading.Event,
    progress: ProgressFn | None,
    policy: RetryPolicy,
) -> httpx.Response | None:
    """One GET: returns None when the body is complete, or an error response."""
    if cancel.is_set():
        raise Cancelled()
    state.attempt_start = state.written
    resume = state.written > 0 and bool(state.validator)
    if state.written > 0 and not resume:
        _restart(out, state)
    headers = {"Accept-Encoding": "identity"}
    if resume:
        headers["Range"] = f"bytes={state.written}-"
        headers["If-Range"] = str(state.validator)
    request = client.build_request("GET", state.url, headers=headers)
    # The shared client never carries a key; make sure nothing added one for this host.
    request.headers.pop("authorization", None)
    response = client.send(request, stream=True)
    try:
        status = response.status_code
        if status in policy.statuses or not 200 <= status < 300:
            return response
        if resume and status == 206:
            if not _range_matches(response, state):
                response.close()
                _restart(out, state)
                state.validator = None
                return _attempt(client, out, state, cancel, progress, policy)
        elif status == 200:
            if state.written:
                _restart(out, state)
        else:
            raise DownloadFailed(f"unexpected {status} {response.reason_phrase}".strip())
        expected = _expected_total(response, state, status)
        _remember_validator(response, state)
        _stream(response, out, state, expected, cancel, progress)
        return None
    finally:
        response.close()


def _restart(out: Any, state: TransferState) -> None:
    out.seek(0)
    out.truncate(0)
    state.written = state.attempt_start = 0
    state.head = b""
    state.hasher = hashlib.sha256()


def _range_matches(response: httpx.Response, state: TransferState) -> bool:
    match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
    if match is None:
        return False
    start, end, total = (int(g) for g in match.groups())
    if start != state.written or end != total - 1:
        return False
    if state.total is not None and total != state.total:
        return False
    return state.file_size is None or total == state.file_size


def _expected_total(response: httpx.Response, state: TransferState, status: int) -> int | None:
    """The full size the server announces; a mismatch with ``file_size`` fails at once."""
    total: int | None = None
    if status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        total = int(match.group(3)) if match else None
    elif _identity(response):
        length = response.headers.get("content-length")
        total = int(length) if length and length.strip().isdigit() else None
    if total is not None and state.file_size is not None and total != state.file_size:
        raise DownloadFailed(
            f"size mismatch: the server announced {total} bytes but the result's "
            f"file_size is {state.file_size}"
        )
    if total is not None:
        state.total = total
    ctype = response.headers.get("content-type")
    if ctype:
        state.content_type = ctype.split(";", 1)[0].strip() or None
    return total


def _remember_validator(response: httpx.Response, state: TransferState) -> None:
    etag = response.headers.get("etag")
    if etag and not etag.startswith("W/"):
        state.validator = etag
    elif response.headers.get("last-modified"):
        state.validator = response.headers["last-modified"]
    else:
        state.validator = None


def _identity(response: httpx.Response) -> bool:
    return response.headers.get("content-encoding", "identity").strip().lower() in ("", "identity")


def _stream(
    response: httpx.Response,
    out: Any,
    state: TransferState,
    expected: int | None,
    cancel: threading.Event,
    progress: ProgressFn | None,
) -> None:
    """Copy the body to ``out`` in 256 KiB–1 MiB writes, hashing as it goes.

    Large bodies are written and hashed on a helper thread (file writes and hashlib both
    release the GIL) while this one keeps reading the socket, so a big download costs about
    max(network, write + hash) rather than their sum; the helper also starts the disk
    writeback early so the final fsync waits only for the tail. Every received byte is on
    the file before this returns or raises, so ``state.written`` is exactly what a resume
    continues from.
    """
    chunks = response.iter_raw() if _identity(response) else response.iter_bytes()
    left = None if expected is None else expected - state.written
    pipe = DiskPipe(out, state) if left is None or left > PIPE_MIN_BYTES else None
    pending: list[bytes] = []
    size = 0
    received = state.written  # handed to the file (or the pipe), not counting `pending`
    total = expected or state.file_size
    shown = state.written

    def flush() -> None:
        nonlocal pending, size, received
        block = pending[0] if len(pending) == 1 else b"".join(pending)
        pending, size = [], 0
        received += len(block)
        if pipe is not None:
            pipe.put(block)
        else:
            write_block(out, state, block)

    try:
        for chunk in chunks:
            if cancel.is_set():
                raise Cancelled()
            if len(state.head) < HEAD_BYTES:
                state.head += chunk[: HEAD_BYTES - len(state.head)]
            pending.append(chunk)
            size += len(chunk)
            if expected is not None and received + size > expected:
                pending, size = [], 0
                state.validator = None  # nothing trustworthy to resume from
                raise DownloadFailed(f"the server sent more than the announced {expected} bytes")
            if size >= WRITE_BYTES or len(chunk) >= DIRECT_BYTES:
                flush()
            if progress is not None and received + size - shown >= PROGRESS_BYTES:
                shown = received + size
                progress(shown, total)
    finally:
        try:
            if pending:
                flush()
        finally:
            if pipe is not None:
                pipe.close(raise_error=sys.exc_info()[0] is None)
    if progress is not None:
        progress(state.written, total)
    written = state.written
    want = expected if expected is not None else state.file_size
    if want is not None and written < want:
        raise _Incomplete(f"short body: got {written} of {want} bytes")
    if state.file_size is not None and written != state.file_size:
        raise DownloadFailed(
            f"size mismatch: got {written} bytes but the result's file_size is {state.file_size}"
        )
