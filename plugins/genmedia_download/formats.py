"""File formats of downloads: content type → extension, and magic-byte sniffing.

A downloaded file's extension comes from its source name or its content type
(:func:`ext_for_type`); after the first bytes arrive, :func:`sniff` tells the real format
and :func:`corrected_ext` renames a file whose extension names another one.
"""

from __future__ import annotations

import attrs

#: content type (or its subtype) → extension; upstream's MIME table plus a few aliases.
MIME_EXT: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/svg+xml": "svg",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/webm": "webm",
    "application/pdf": "pdf",
    "model/gltf-binary": "glb",
    "model/obj": "obj",
}
_SUBTYPE_EXT = {
    "jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "svg+xml": "svg", "mp4": "mp4",
    "webm": "webm", "quicktime": "mov", "mpeg": "mp3", "wav": "wav", "x-wav": "wav",
    "ogg": "ogg", "flac": "flac", "pdf": "pdf", "gltf-binary": "glb", "obj": "obj",
}  # fmt: skip

#: extensions that name the same format (no correction between them).
_SAME = [
    {"jpg", "jpeg", "jpe", "jfif"},
    {"mp4", "m4v", "m4a", "mov", "3gp"},  # ISO base media: the brand is not the container
    {"webm", "mkv", "weba"},
    {"ogg", "oga", "ogv", "opus"},
    {"mp3", "mpga"},
    {"wav", "wave"},
]
#: extensions whose format :func:`sniff` can tell, plus names that say "unknown".
_KNOWN = set().union(*_SAME) | {"png", "gif", "webp", "flac", "glb", "pdf", "bin", "dat", ""}


def ext_for_type(content_type: str | None) -> str:
    """The extension for a content type (``image/jpeg`` → ``jpg``), or ``""``."""
    if not content_type:
        return ""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in MIME_EXT:
        return MIME_EXT[mime]
    return _SUBTYPE_EXT.get(mime.rpartition("/")[2], "")


# --------------------------------------------------------------------------- sniffing


@attrs.frozen
class Sniffed:
    ext: str
    content_type: str


def sniff(head: bytes) -> Sniffed | None:
    """The format named by a file's first bytes (at least 16 are needed), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("png", "image/png")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("jpg", "image/jpeg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("gif", "image/gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("webp", "image/webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("wav", "audio/wav")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return Sniffed("mov", "video/quicktime")
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("m4a", "audio/mp4")
        return Sniffed("mp4", "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return (
            Sniffed("webm", "video/webm")
            if b"webm" in head[:64]
            else Sniffed("mkv", "video/x-matroska")
        )
    if head.startswith(b"ID3") or (
        len(head) > 1 and head[0] == 0xFF and head[1] in (0xFB, 0xF3, 0xF2, 0xFA)
    ):
        return Sniffed("mp3", "audio/mpeg")
    if head.startswith(b"OggS"):
        return Sniffed("ogg", "audio/ogg")
    if head.startswith(b"fLaC"):
        return Sniffed("flac", "audio/flac")
    if head.startswith(b"glTF"):
        return Sniffed("glb", "model/gltf-binary")
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf", "application/pdf")
    return None


def same_format(ext_a: str, ext_b: str) -> bool:
    a, b = ext_a.lower(), ext_b.lower()
    return a == b or any(a in group and b in group for group in _SAME)


def corrected_ext(current: str, sniffed: Sniffed | None) -> str | None:
    """The extension to use instead of ``current``, or None to keep it.

    Only an extension that names a format the sniffer knows (or none, ``bin``, ``dat``)
    is corrected; an extension it cannot judge (``svg``, ``heic`` …) is kept.
    """
    if sniffed is None or current.lower() not in _KNOWN or same_format(current, sniffed.ext):
        return None
    return sniffed.ext
