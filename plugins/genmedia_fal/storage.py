"""Uploads to fal's CDN, the way ``fal_client`` does it (fal-api.md e.2).

1. ``POST {rest}/storage/auth/token?storage_type=fal-cdn-v3`` (key auth) → a short-lived
   CDN token ``{token, token_type, base_url, expires_at}``, cached until it expires.
2. Files up to the multipart threshold (100 MiB; ``GENMEDIA_FAL_MULTIPART_THRESHOLD`` or
   ``plugins.fal.multipart_threshold``): ``POST {cdn}/files/upload`` with the bytes,
   ``Authorization: <token_type> <token>``, ``X-Fal-File-Name`` → ``{"access_url"}``.
3. Bigger files: ``POST {base_url}/files/upload/multipart`` → ``{access_url, uploadId}``;
   each part (10 MiB; ``GENMEDIA_FAL_PART_SIZE``) ``PUT {access_url}/multipart/{uploadId}/{n}``
   → ``ETag``, several in parallel (``GENMEDIA_FAL_UPLOAD_CONCURRENCY``, default 4), each
   retried on its own; then ``POST …/complete`` with ``{"parts": [{partNumber, etag}]}``.

Bodies are streamed from disk in 256 KiB blocks, so memory stays flat for any file size
(at most ``concurrency`` blocks in flight). An ``http(s)://`` source is first downloaded
(plain GET, no key) to a temporary file, then uploaded the same way.
"""

from __future__ import annotations

import mimetypes
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from genmedia import errors
from genmedia.http import retry_call
from genmedia.types import UploadedFile
from genmedia_fal import errors as fal_errors
from genmedia_fal.client import HOSTS, IDEMPOTENT, PART_POLICY, FalClient

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from genmedia.progress import ProgressFn

BLOCK = 256 * 1024
#: upstream genmedia's extension table (fal-api.md e.1), then Python's mimetypes.
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".pdf": "application/pdf",
    ".glb": "model/gltf-binary",
    ".obj": "model/obj",
}


def content_type_for(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    return CONTENT_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"


#: printable ASCII kept as is in ``X-Fal-File-Name`` (``%`` is the escape character).
_NAME_SAFE = "".join(chr(c) for c in range(32, 127) if chr(c) != "%")


def header_file_name(name: str) -> str:
    """``name`` for the ``X-Fal-File-Name`` header (HTTP header values are ASCII): a
    printable-ASCII name is sent as is; anything else (accents, emoji, CJK, control
    characters) is percent-encoded as UTF-8 (RFC 3986), which is also how the name
    appears in the file's URL. ``café.png`` → ``caf%C3%A9.png``."""
    from urllib.parse import quote

    return quote(name, safe=_NAME_SAFE, errors="surrogateescape")


def is_url(value: str) -> bool:
    return value[:8].lower().startswith(("http://", "https://"))


def read_blocks(
    path: Path, start: int, length: int, sent: Callable[[int], None]
) -> Iterator[bytes]:
    """``length`` bytes of ``path`` from ``start``, in :data:`BLOCK`-sized pieces."""
    with open(path, "rb") as fh:
        fh.seek(start)
        left = length
        while left > 0:
            data = fh.read(min(BLOCK, left))
            if not data:
                break
            left -= len(data)
            sent(len(data))
            yield data


class _Counter:
    """Bytes sent across threads, reported to a progress callback."""

    def __init__(self, total: int, progress: ProgressFn | None) -> None:
        self.total = total
        self.progress = progress
        self.done = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if self.progress is None:
            return
        with self._lock:
            self.done += n
            done = min(self.done, self.total)
        self.progress(done, self.total)

    def rewind(self, n: int) -> None:
        with self._lock:
            self.done = max(0, self.done - n)


class Storage:
    def __init__(self, client: FalClient) -> None:
        self.client = client
        self._token: dict[str, Any] | None = None
        self._token_until = 0.0
        self._lock = threading.Lock()

    # -- token --------------------------------------------------------------------------

    def token(self) -> dict[str, Any]:
        with self._lock:
            if self._token is not None and time.time() < self._token_until - 30:
                return self._token
            client = self.client
            response = client.call(
                "POST",
                f"{client.host('rest')}/storage/auth/token",
                what="CDN token request failed",
                params={"storage_type": "fal-cdn-v3"},
                headers=client.auth(),
                json={},
                parse=True,
            )
            data = response.fal_json  # type: ignore[attr-defined]
            if not isinstance(data, dict) or not data.get("token"):
                raise fal_errors.fal_error(
                    errors.RemoteError,
                    "CDN token reply has no token",
                    {"status": response.status_code},
                )
            self._token = data
            self._token_until = _expiry(data.get("expires_at"))
            return data

    def _cdn_headers(self, name: str, content_type: str) -> dict[str, str]:
        token = self.token()
        return {
            "Authorization": f"{token.get('token_type') or 'Bearer'} {token['token']}",
            "Content-Type": content_type,
            "X-Fal-File-Name": header_file_name(name),
        }

    # -- public -------------------------------------------------------------------------

    def upload(self, source: str, *, progress: ProgressFn | None = None) -> UploadedFile:
        if is_url(source):
            return self._upload_url(source, progress)
        from genmedia.files import is_file

        if "\x00" in source or not is_file(source):
            shown = os.path.abspath(os.path.expanduser(source.replace("\x00", "\\0")))
            raise errors.NotFoundError(f"File not found: {shown}", {"path": shown})
        path = Path(source).expanduser()
        name = path.name
        return self.upload_file(
            path, name, content_type_for(name), source=source, progress=progress
        )

    def upload_file(
        self, path: Path, name: str, content_type: str, *, source: str, progress: ProgressFn | None
    ) -> UploadedFile:
        self.client.key()  # fail fast without a key, before reading anything
        size = path.stat().st_size
        counter = _Counter(size, progress)
        if size > self.client.options.multipart_threshold:
            url = self._multipart(path, name, content_type, size, counter)
        else:
            url = self._simple(path, name, content_type, size, counter)
        return UploadedFile(
            url=url, source=source, size_bytes=size, content_type=content_type, file_name=name
        )

    # -- flows --------------------------------------------------------------------------

    def _simple(self, path: Path, name: str, ctype: str, size: int, counter: _Counter) -> str:
        client = self.client
        url = f"{client.host('cdn')}/files/upload"
        headers = {**self._cdn_headers(name, ctype), "Content-Length": str(size)}
        attempts = [0]

        def body() -> Iterator[bytes]:
            attempts[0] += 1
            if attempts[0] > 1:
                counter.rewind(counter.done)
            return read_blocks(path, 0, size, counter.add)

        response = client.call(
            "POST", url, what="Upload failed", headers=headers, parse=True, content=_Replay(body)
        )
        return _access_url(response)

    def _multipart(self, path: Path, name: str, ctype: str, size: int, counter: _Counter) -> str:
        client = self.client
        token = self.token()
        # fal_client uses the token's base_url; an explicit CDN override wins over it.
        base = client.host("cdn")
        if base == HOSTS["cdn"][1] and token.get("base_url"):
            base = str(token["base_url"]).rstrip("/")
        response = client.call(
            "POST",
            f"{base}/files/upload/multipart",
            what="Multipart upload failed",
            headers=self._cdn_headers(name, ctype),
            parse=True,
        )
        data = response.fal_json  # type: ignore[attr-defined]
        access_url, upload_id = data.get("access_url"), data.get("uploadId")
        if not access_url or not upload_id:
            raise fal_errors.fal_error(
                errors.RemoteError,
                "Multipart upload reply lacks access_url/uploadId",
                {"body": data},
            )
        part_size = client.options.part_size
        count = max(1, -(-size // part_size))
        parts_base = f"{access_url}/multipart/{upload_id}"

        def put_part(number: int) -> dict[str, Any]:
            start = (number - 1) * part_size
            length = min(part_size, size - start)
            sent = [0]

            def add(n: int) -> None:
                sent[0] += n
                counter.add(n)

            def body() -> Iterator[bytes]:
                counter.rewind(sent[0])
                sent[0] = 0
                return read_blocks(path, start, length, add)

            headers = {
                **self._cdn_headers(name, ctype),
                "Content-Length": str(length),
                "Accept-Encoding": "identity",
            }
            response = client.call(
                "PUT",
                f"{parts_base}/{number}",
                what=f"Upload of part {number} failed",
                policy=PART_POLICY,
                headers=headers,
                content=_Replay(body),
            )
            etag = response.headers.get("etag")
            if not etag:
                try:
                    etag = response.json().get("etag")
                except ValueError:
                    etag = None
            if not etag:
                raise fal_errors.fal_error(
                    errors.RemoteError, f"Upload of part {number}: no ETag in the reply", {}
                )
            return {"partNumber": number, "etag": etag}

        workers = min(client.options.upload_concurrency, count)
        from concurrent.futures import ThreadPoolExecutor  # multipart only: not on every run

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fal-upload") as pool:
            parts = list(pool.map(put_part, range(1, count + 1)))
        response = client.call(
            "POST",
            f"{parts_base}/complete",
            what="Completing the multipart upload failed",
            headers={**self._cdn_headers(name, ctype), "Content-Type": "application/json"},
            json={"parts": parts},
            parse=True,
        )
        return str(response.fal_json.get("access_url") or access_url)  # type: ignore[attr-defined]

    def _upload_url(self, url: str, progress: ProgressFn | None) -> UploadedFile:
        """Fetch ``url`` (no key) to a temporary file, then upload it."""
        import httpx

        client = self.client
        client.key()
        tail = urlsplit(url)
        raw_name = unquote(tail.path.rsplit("/", 1)[-1]) or "upload"
        import tempfile

        with tempfile.TemporaryDirectory(prefix="genmedia-upload-") as tmp:
            target = Path(tmp) / "download"

            def fetch() -> str | httpx.Response:
                """One attempt: the content type, or the failed response (to retry)."""
                with client.http.stream("GET", url) as response:
                    if not response.is_success:
                        return response
                    with open(target, "wb") as fh:
                        for block in response.iter_bytes(BLOCK):
                            fh.write(block)
                    return str(response.headers.get("content-type", "")).split(";")[0].strip()

            try:
                # a plain GET is safe to repeat: resets, timeouts, 429 and 5xx are retried
                outcome = retry_call(
                    fetch,
                    IDEMPOTENT,
                    should_retry=lambda r: (
                        isinstance(r, httpx.Response) and r.status_code in IDEMPOTENT.statuses
                    ),
                )
            except httpx.TransportError as exc:
                raise fal_errors.network_error(exc, url, what=f"Failed to fetch {url}") from None
            if isinstance(outcome, httpx.Response):
                cls = errors.for_status(outcome.status_code)
                raise cls(
                    f"Failed to fetch {url}: {outcome.status_code}",
                    {"url": url, "status": outcome.status_code},
                )
            ctype = outcome
            ctype = ctype or content_type_for(raw_name)
            return self.upload_file(target, raw_name, ctype, source=url, progress=progress)


class _Replay:
    """A request body that can be sent again: each iteration starts a fresh read."""

    def __init__(self, factory: Callable[[], Iterator[bytes]]) -> None:
        self.factory = factory

    def __iter__(self) -> Iterator[bytes]:
        return self.factory()


def _access_url(response: httpx.Response) -> str:
    data = response.fal_json  # type: ignore[attr-defined]
    url = data.get("access_url") if isinstance(data, dict) else None
    if not url:
        raise fal_errors.fal_error(
            errors.RemoteError, "Upload reply has no access_url", {"body": data}
        )
    return str(url)


def _expiry(value: Any) -> float:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + 300
