"""The CDN's file store: uploads and generated media, on disk in a server-owned temp dir.

Every stored file has a key (random hex) and is served at ``<cdn>/files/<key>/<name>``;
the name in the URL is cosmetic (lookups use the key), which is also what lets the
hostile-name fault put ``..%2F`` into a URL that still resolves.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import attrs

from . import media


@attrs.define(eq=False)
class StoredFile:
    key: str
    name: str
    content_type: str
    size: int
    etag: str
    path: Path | None = None  # bytes on disk, or
    blob_seed: str | None = None  # a deterministic blob generated on demand
    url_name: str | None = None  # the (possibly hostile) name used in the URL

    def iter_range(self, start: int, end: int, chunk: int = media.BLOCK) -> Iterator[bytes]:
        if self.blob_seed is not None:
            yield from media.blob_range(self.blob_seed, self.size, start, end, chunk)
            return
        assert self.path is not None
        with open(self.path, "rb") as fh:
            fh.seek(start)
            left = end - start + 1
            while left > 0:
                data = fh.read(min(chunk, left))
                if not data:
                    break
                left -= len(data)
                yield data


@attrs.define(eq=False)
class PendingUpload:
    """A multipart upload in progress (either the CDN flow or the REST initiate flow)."""

    key: str
    name: str
    content_type: str
    token: str = ""  # pre-signed URL token (REST initiate flow)
    upload_id: str = ""  # CDN multipart upload id (Python client flow)
    parts: dict[int, Path] = attrs.field(factory=dict)


class Storage:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="genmedia-sandbox-"))
        self._lock = threading.Lock()
        self.files: dict[str, StoredFile] = {}
        self.pending: dict[str, PendingUpload] = {}

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def reset(self) -> None:
        with self._lock:
            self.files.clear()
            self.pending.clear()
        for child in self.root.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(8)

    def _path(self, key: str, suffix: str = "") -> Path:
        return self.root / f"{key}{suffix}"

    def put_bytes(
        self, data: bytes, name: str, content_type: str, key: str | None = None
    ) -> StoredFile:
        key = key or self.new_key()
        path = self._path(key)
        path.write_bytes(data)
        etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
        return self._register(StoredFile(key, name, content_type, len(data), etag, path=path))

    def put_blob(self, size: int, name: str, content_type: str, seed: str) -> StoredFile:
        key = self.new_key()
        etag = '"' + hashlib.md5(f"{seed}:{size}".encode(), usedforsecurity=False).hexdigest() + '"'
        return self._register(StoredFile(key, name, content_type, size, etag, blob_seed=seed))

    def open_writer(self, key: str, suffix: str = "") -> tuple[Path, object]:
        path = self._path(key, suffix)
        return path, open(path, "wb")

    def finish_file(self, key: str, name: str, content_type: str, path: Path) -> StoredFile:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        final = self._path(key)
        if path != final:
            os.replace(path, final)
        size = final.stat().st_size
        return self._register(
            StoredFile(key, name, content_type, size, f'"{digest.hexdigest()}"', path=final)
        )

    def assemble(self, pending: PendingUpload) -> StoredFile:
        """Concatenate the parts of a multipart upload, in part-number order."""
        target = self._path(pending.key, ".assembling")
        with open(target, "wb") as out:
            for number in sorted(pending.parts):
                with open(pending.parts[number], "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
                pending.parts[number].unlink(missing_ok=True)
        with self._lock:
            self.pending.pop(pending.key, None)
        return self.finish_file(pending.key, pending.name, pending.content_type, target)

    def _register(self, stored: StoredFile) -> StoredFile:
        with self._lock:
            self.files[stored.key] = stored
        return stored

    def get(self, key: str) -> StoredFile | None:
        return self.files.get(key)

    @staticmethod
    def url(cdn_base: str, stored: StoredFile) -> str:
        name = stored.url_name if stored.url_name is not None else quote(stored.name)
        return f"{cdn_base}/files/{stored.key}/{name}"
