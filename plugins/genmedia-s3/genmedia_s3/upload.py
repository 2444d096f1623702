"""Stream one CDN response into one S3 object, with bounded memory and no partial object.

Shape of a transfer::

    CDN ──httpx stream──▶ reader (this thread): fills a part buffer, hashes it
                                 │ hand-off
                                 ▼
                       uploaders (worker threads): UploadPart(buffer); once a part
                       landed, the reader refills its buffer with the next part

Memory is ``inflight × part_size`` (defaults: 2 and 5 MiB) plus the client, whatever the
size of the output: with two buffers, one part uploads while the next is read, or two
upload at once while the reader waits. An output shorter than one part is one
``PutObject``. Otherwise: ``CreateMultipartUpload`` → ``UploadPart``… →
``CompleteMultipartUpload``; S3 creates the object only at the completion, so a failure at
any point before it leaves **no object** under the key, and the upload is then cancelled
with ``AbortMultipartUpload`` so no orphaned parts are kept (and billed).

Retries: each ``UploadPart`` is retried by botocore's *standard* retry mode (throttling,
5xx, dropped connections; the part's bytes are still in memory, so a retry resends exactly
them). The CDN stream is resumed where it broke with a ``Range`` request (guarded by
``If-Range`` on the ETag, so a file that changed is never spliced), under genmedia's
:class:`~genmedia.http.RetryPolicy`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import attrs

from genmedia.http import RetryPolicy, backoff, scaled

#: S3's smallest part (except the last) and its largest part count.
MIN_PART = 5 * 1024 * 1024
MAX_PARTS = 10_000
READ_CHUNK = 256 * 1024
SOURCE_POLICY = RetryPolicy(attempts=5, base=0.25, cap=4.0, total=60.0)
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class SourceFailed(Exception):
    """The output could not be read from its URL (after retries)."""


class Cancelled(Exception):
    """The transfer was stopped (Ctrl-C)."""


@attrs.frozen
class Uploaded:
    key: str
    size: int
    sha256: str
    content_type: str | None
    etag: str | None
    version_id: str | None
    parts: int


# --------------------------------------------------------------------------- the source


class Source:
    """A GET of ``url`` read as one continuous byte stream, resumed with ``Range`` when the
    connection breaks, until ``Content-Length`` bytes arrived."""

    def __init__(
        self,
        http: Any,
        url: str,
        *,
        policy: RetryPolicy = SOURCE_POLICY,
        on_retry: Callable[[int, float, str], None] | None = None,
    ) -> None:
        self.http = http
        self.url = url
        self.policy = policy
        self.on_retry = on_retry
        self.done = 0
        self.length: int | None = None
        self.etag: str | None = None
        self.content_type: str | None = None
        self._response: Any = None
        self._chunks: Iterator[bytes] | None = None
        self._pending = memoryview(b"")
        self._retries = 0
        self._started = time.monotonic()

    def open(self) -> None:
        """Send the first GET; afterwards ``length``, ``etag`` and ``content_type`` are set."""
        while True:
            try:
                self._connect()
                return
            except SourceFailed as exc:
                self._wait_or_raise(exc)

    def _connect(self) -> None:
        import httpx

        headers = {"Accept-Encoding": "identity"}
        if self.done:
            headers["Range"] = f"bytes={self.done}-"
            if self.etag:
                headers["If-Range"] = self.etag
        try:
            request = self.http.build_request("GET", self.url, headers=headers)
            response = self.http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise SourceFailed(f"{type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status in RETRY_STATUSES or status >= 500:
            response.close()
            raise SourceFailed(f"HTTP {status} from {self.url}")
        if status not in (200, 206):
            response.close()
            raise _Final(f"HTTP {status} from {self.url}")
        skip = 0
        if self.done and status == 206:
            start = _range_start(response.headers.get("content-range"))
            if start != self.done:
                response.close()
                raise _Final(f"the server resumed at byte {start}, not {self.done}")
        elif self.done:
            if self.etag and response.headers.get("etag") != self.etag:
                response.close()
                raise _Final("the file changed on the server while it was being copied")
            skip = self.done  # no Range support: read again from 0 and drop what we have
        if not self.done:
            self.etag = response.headers.get("etag")
            self.content_type = response.headers.get("content-type")
            length = response.headers.get("content-length")
            self.length = int(length) if length and length.isdigit() else None
        self._response = response
        self._chunks = self._iterate(response, skip)

    def _iterate(self, response: Any, skip: int) -> Iterator[bytes]:
        for chunk in response.iter_raw(READ_CHUNK):
            if skip:
                drop = min(skip, len(chunk))
                skip -= drop
                chunk = chunk[drop:]
            if chunk:
                yield chunk

    def _wait_or_raise(self, exc: Exception) -> None:
        delay = backoff(self._retries, self.policy)
        spent = time.monotonic() - self._started
        if self._retries + 1 >= self.policy.attempts or spent + delay > self.policy.total:
            raise SourceFailed(f"{exc} (after {self._retries + 1} attempts)") from None
        self._retries += 1
        if self.on_retry is not None:
            self.on_retry(self._retries, delay, str(exc))
        time.sleep(scaled(delay))  # GENMEDIA_RETRY_DELAY_SCALE (a test setting)

    def readinto(self, view: memoryview) -> int:
        """Fill ``view`` as far as the stream goes; 0 only at the true end of the file."""
        import httpx

        filled = 0
        while filled < len(view):
            if not self._pending:
                try:
                    assert self._chunks is not None
                    self._pending = memoryview(next(self._chunks))
                except StopIteration:
                    if self.length is None or self.done >= self.length:
                        break
                    self._broken(SourceFailed(f"connection closed at byte {self.done}"))
                    continue
                except httpx.TransportError as exc:  # reset, short body, read timeout
                    self._broken(SourceFailed(f"{type(exc).__name__}: {exc}"))
                    continue
            n = min(len(self._pending), len(view) - filled)
            view[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
            self.done += n
        if self.length is not None and self.done > self.length:
            raise _Final(f"the server sent more than its Content-Length ({self.length})")
        return filled

    def _broken(self, exc: SourceFailed) -> None:
        self.close()
        while True:
            self._wait_or_raise(exc)
            try:
                self._connect()
                return
            except SourceFailed as again:
                exc = again

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None


class _Final(SourceFailed):
    """A source failure that retrying cannot fix."""


def _range_start(value: str | None) -> int | None:
    # "bytes 100-199/200"
    if not value or not value.startswith("bytes "):
        return None
    first = value[6:].split("-", 1)[0]
    return int(first) if first.isdigit() else None


# --------------------------------------------------------------------------- the upload


def part_size_for(length: int | None, wanted: int) -> int:
    """``wanted`` (at least S3's 5 MiB), grown when a known length would need more parts
    than S3 allows."""
    size = max(MIN_PART, wanted)
    if length is not None:
        while -(-length // size) > MAX_PARTS:
            size *= 2
    return size


def stream_to_s3(
    s3: Any,
    source: Source,
    *,
    bucket: str,
    key: str,
    content_type: str | None,
    metadata: dict[str, str],
    part_size: int,
    inflight: int = 2,
    cancel: threading.Event | None = None,
) -> Uploaded:
    """Copy ``source`` (already opened) to ``s3://bucket/key``; see the module doc.

    At most ``inflight`` (at least 2) part buffers exist, each either being filled from
    the source or uploading: the reader refills the oldest buffer once its part landed.
    """
    cancel = cancel or threading.Event()
    size = part_size_for(source.length, part_size)
    digest = hashlib.sha256()
    extra: dict[str, Any] = {"Metadata": metadata}
    if content_type:
        extra["ContentType"] = content_type
    buf = bytearray(size)
    filled = _fill(source, buf, digest, cancel)
    if filled < size:  # the whole output fits in one part: one atomic PutObject
        del buf[filled:]  # shrinks in place: no copy of the part
        answer = s3.put_object(Bucket=bucket, Key=key, Body=buf, **extra)
        return Uploaded(
            key,
            filled,
            digest.hexdigest(),
            content_type,
            answer.get("ETag"),
            answer.get("VersionId"),
            1,
        )
    checksum = _checksum_algorithm(s3)
    create = dict(extra, ChecksumAlgorithm=checksum) if checksum else extra
    pool = ThreadPoolExecutor(max_workers=max(2, inflight), thread_name_prefix="genmedia-s3")
    # S3 calls run on the workers; this thread only waits, so Ctrl-C never lands in the
    # middle of one: an upload the server created is always known, and aborted.
    creating = pool.submit(s3.create_multipart_upload, Bucket=bucket, Key=key, **create)
    try:
        upload_id = _wait(creating, cancel)["UploadId"]
    except BaseException:
        try:
            created = creating.result(timeout=30)["UploadId"]
        except BaseException:
            created = None
        if created:
            abort(s3, bucket, key, created)
        pool.shutdown(wait=False)
        raise
    parts: list[dict[str, Any]] = []
    pending: deque[tuple[Future[dict[str, Any]], bytearray]] = deque()
    allocated, total, number = 1, filled, 0
    completing: Future[dict[str, Any]] | None = None
    try:
        while True:
            number += 1
            if filled < size:
                del buf[filled:]  # the last part
            task = pool.submit(_put_part, s3, bucket, key, upload_id, number, buf)
            pending.append((task, buf))
            if filled < size:
                break
            if allocated < max(2, inflight):
                buf = bytearray(size)
                allocated += 1
            else:  # reuse the buffer of the oldest part once it has landed
                oldest, buf = pending.popleft()
                parts.append(_wait(oldest, cancel))
            filled = _fill(source, buf, digest, cancel)
            total += filled
            if filled == 0:
                break
        while pending:
            parts.append(_wait(pending.popleft()[0], cancel))
        completing = pool.submit(
            s3.complete_multipart_upload,
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
        answer = _wait(completing, cancel)
    except BaseException:
        cancel.set()
        tasks = [task for task, _ in pending] + ([completing] if completing else [])
        for task in tasks:
            task.cancel()
        for task in tasks:  # let running calls end before the abort
            try:
                task.exception(timeout=30)
            except BaseException:
                pass
        pool.shutdown(wait=False)
        abort(s3, bucket, key, upload_id)
        raise
    pool.shutdown(wait=True)
    return Uploaded(
        key,
        total,
        digest.hexdigest(),
        content_type,
        answer.get("ETag"),
        answer.get("VersionId"),
        len(parts),
    )


def abort(s3: Any, bucket: str, key: str, upload_id: str) -> None:
    """``AbortMultipartUpload``, twice if a part was still landing (S3 asks for that)."""
    for _ in range(2):
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:
            return
        try:
            left = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts")
        except Exception:
            return  # NoSuchUpload: gone, as wanted
        if not left:
            return


def _fill(source: Source, buf: bytearray, digest: Any, cancel: threading.Event) -> int:
    if cancel.is_set():
        raise Cancelled()
    if len(buf) < 1:
        return 0
    with memoryview(buf) as view:
        n = source.readinto(view)
        digest.update(view[:n])
    return n


def _put_part(
    s3: Any, bucket: str, key: str, upload_id: str, number: int, body: bytes | bytearray
) -> dict[str, Any]:
    answer = s3.upload_part(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
    )
    part = {"PartNumber": number, "ETag": answer["ETag"]}
    for name in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256"):
        if answer.get(name):
            part[name] = answer[name]
    return part


def _wait(future: Future[dict[str, Any]], cancel: threading.Event) -> dict[str, Any]:
    while True:
        try:
            return future.result(timeout=0.2)
        except FutureTimeout:
            if cancel.is_set():
                raise Cancelled() from None


def _checksum_algorithm(s3: Any) -> str | None:
    """CRC32 when the client computes checksums by default (as ``upload_fileobj`` does)."""
    mode = getattr(s3.meta.config, "request_checksum_calculation", None)
    return "CRC32" if mode in (None, "when_supported") else None
