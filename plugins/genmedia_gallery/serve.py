"""``gallery serve``: the gallery over HTTP on 127.0.0.1, with byte ranges for big videos.

The page links downloaded files relatively (``../out/video.mp4``), so the server's root
is the deepest directory holding both the gallery and every file it links to; the
gallery page lives at ``/<gallery dir relative to that root>/index.html`` and every
relative link resolves as it does from ``file://``. Only the gallery's own files and
the files listed in its ``gallery.json`` are served: any other path is a 404, so the
root being a broad directory exposes nothing else. Requests whose ``Host`` is not a
loopback name are refused (DNS rebinding).
"""

from __future__ import annotations

import mimetypes
import os
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from genmedia_gallery.build import INDEX, MANIFEST, read_manifest

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
#: extra types the platform's table may lack.
_TYPES = {".glb": "model/gltf-binary", ".gltf": "model/gltf+json", ".webm": "video/webm"}


class GalleryServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, out_dir: Path, *, port: int = 0, host: str = "127.0.0.1"):
        self.out_dir = out_dir.resolve()
        manifest = read_manifest(self.out_dir) or {}
        files = {str(Path(p).resolve()) for p in manifest.get("local_files") or ()}
        self.allowed = files | {str(self.out_dir / INDEX), str(self.out_dir / MANIFEST)}
        self.root = Path(os.path.commonpath([str(self.out_dir), *files]))
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        rel = self.out_dir.relative_to(self.root).as_posix()
        prefix = "" if rel == "." else "/".join(quote(p) for p in rel.split("/")) + "/"
        return f"http://{host}:{port}/{prefix}{INDEX}"

    def lookup(self, url_path: str) -> Path | None:
        """The allowed file a URL path names, or None."""
        parts = [unquote(p) for p in url_path.split("/") if p]
        if any(p in ("..", ".") or "\x00" in p for p in parts):
            return None
        candidate = self.root.joinpath(*parts)
        if candidate == self.out_dir or not parts:
            candidate = self.out_dir / INDEX
        try:
            resolved = candidate.resolve()
        except OSError:
            return None
        return resolved if str(resolved) in self.allowed and resolved.is_file() else None


class _Handler(BaseHTTPRequestHandler):
    server: GalleryServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _fail(self, status: HTTPStatus, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, *, body: bool) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        if host not in _LOOPBACK:
            self._fail(HTTPStatus.FORBIDDEN)
            return
        path = self.server.lookup(urlsplit(self.path).path)
        if path is None:
            self._fail(HTTPStatus.NOT_FOUND)
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        status = HTTPStatus.OK
        wanted = self.headers.get("Range")
        if wanted:
            m = _RANGE.match(wanted.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:  # suffix: the last N bytes
                    start = max(size - int(m.group(2)), 0)
                if start >= size or start > end:
                    self._fail(
                        HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                        {"Content-Range": f"bytes */{size}"},
                    )
                    return
                status = HTTPStatus.PARTIAL_CONTENT
        ctype = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(max(end - start + 1, 0)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not body or size == 0:
            return
        try:
            with path.open("rb") as fh:
                fh.seek(start)
                _copy(fh, self.wfile, end - start + 1)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _copy(src: Any, dst: Any, length: int, chunk: int = 256 * 1024) -> None:
    left = length
    while left > 0:
        data = src.read(min(chunk, left))
        if not data:
            return
        dst.write(data)
        left -= len(data)
