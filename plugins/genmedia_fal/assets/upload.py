"""``assets upload``: get a fal-hosted URL for a file or URL, and its asset type.

- fal-hosted URLs (:meth:`genmedia_fal.client.FalClient.is_fal_media`: fal's media
  hosts and the configured CDN base URL, so the sandbox's CDN counts too) are used as
  they are;
- local files and any other URL go through the storage provider
  (``get_app(ctx).default_provider().upload(source)``), with a progress bar on a terminal.

The type is ``--type`` (checked), else inferred: from the extension of the argument, then
(local files) from the file's first bytes, then from the stored URL's extension and the
content type the provider reports. An invalid explicit ``--type`` fails before anything
is uploaded.
"""

from __future__ import annotations

import mimetypes
import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from genmedia import errors
from genmedia_fal.assets.models import MEDIA_TYPES
from genmedia_fal.storage import is_url

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_fal.client import FalClient

THREE_D_EXTENSIONS = frozenset({".glb", ".gltf", ".obj", ".fbx", ".stl", ".ply", ".usdz"})
EXTRA_TYPES = {
    ".webp": "image",
    ".avif": "image",
    ".heic": "image",
    ".mkv": "video",
    ".webm": "video",
    ".m4a": "audio",
    ".flac": "audio",
    ".ogg": "audio",
    ".opus": "audio",
}


def type_from_name(name: str) -> str | None:
    """``cat.png`` / ``https://…/clip.mp4?x=1`` → the asset type, or None."""
    path = urlsplit(name).path if is_url(name) else name
    ext = os.path.splitext(path)[1].lower()
    if not ext:
        return None
    if ext in THREE_D_EXTENSIONS:
        return "3d"
    if ext in EXTRA_TYPES:
        return EXTRA_TYPES[ext]
    return type_from_content_type(mimetypes.guess_type("x" + ext)[0])


def type_from_content_type(content_type: str | None) -> str | None:
    ct = (content_type or "").split(";")[0].strip().lower()
    for prefix, kind in (("image/", "image"), ("video/", "video"), ("audio/", "audio")):
        if ct.startswith(prefix):
            return kind
    if ct.startswith("model/"):
        return "3d"
    return None


def type_from_bytes(head: bytes) -> str | None:
    """A few well-known signatures (files without a telling extension)."""
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")):
        return "image"
    if head[:4] == b"RIFF":
        return {b"WEBP": "image", b"WAVE": "audio", b"AVI ": "video"}.get(head[8:12])
    if head.startswith((b"ID3", b"OggS", b"fLaC")) or head[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return "audio"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis", b"heic", b"heix", b"mif1"):
            return "image"
        return "audio" if brand == b"M4A " else "video"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video"
    if head.startswith(b"glTF"):
        return "3d"
    return None


def check_type(value: str) -> str:
    if value not in MEDIA_TYPES:
        raise errors.ValidationError(f"Invalid --type: {value}", {"allowed": list(MEDIA_TYPES)})
    return value


def prepare_upload(
    fal: FalClient, target: str, asset_type: str | None, provider_name: str | None
) -> tuple[str, str]:
    """The fal-hosted URL to register and its asset type (uploading when needed)."""
    app: AppContext = fal.ctx
    kind = check_type(asset_type) if asset_type else type_from_name(target)
    if is_url(target):
        if fal.is_fal_media(target):
            return target, _require(kind)
    else:
        if not os.path.isfile(target):
            raise errors.UsageError(f"File not found: {target}", {"path": target})
        if kind is None:
            with open(target, "rb") as fh:
                kind = type_from_bytes(fh.read(16))
    from genmedia.progress import transfer_progress

    provider = app.default_provider(provider_name)
    with transfer_progress(app, f"upload {os.path.basename(target) or target}") as progress:
        uploaded = provider.upload(target, progress=progress)
    if kind is None:
        kind = type_from_name(uploaded.url) or type_from_content_type(uploaded.content_type)
    return uploaded.url, _require(kind)


def _require(kind: str | None) -> str:
    if kind is None:
        raise errors.ValidationError(
            "Could not infer --type from file extension; pass --type explicitly",
            {"allowed": list(MEDIA_TYPES)},
        )
    return kind
