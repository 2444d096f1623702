"""Where each output goes: ``s3://bucket/key-template`` parsed, rendered and made safe.

The key template speaks ``--download``'s placeholder language — ``{index}`` ``{name}``
``{ext}`` ``{request_id}`` ``{endpoint}`` ``{seed}``, ``{{``/``}}`` for literal braces, an
empty ``{ext}`` drops the dot before it — so one template works for both sinks. The
download plugin keeps its renderer private (it is tied to local paths: a directory jail,
collision suffixes against the disk, magic-byte extension fixes), and a plugin may only use
the core's public surface, so the ~40 lines of the language are implemented here; a test
checks that both sinks know the same placeholders.

What differs from local paths, on purpose:

* a value that ends in ``/`` (or names only a bucket) is a prefix: ``{name}.{ext}`` is
  appended, preceded by ``{request_id}/`` when the value has no placeholder of its own, so
  runs never overwrite each other;
* any other value without placeholders is one key; a second output of the run gets
  ``_1``, ``_2`` … before its extension (``--download``'s rule);
* every substituted value is reduced to one safe key segment (no ``/``, no control
  characters, no leading dots), so only the slashes the user typed make "folders";
* keys that would collide inside one run get ``_1``, ``_2`` …; an object already in the
  bucket under the same key is replaced (S3's own semantics; versioned buckets keep it).
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from genmedia.types import MediaRef

PLACEHOLDERS = ("index", "name", "ext", "request_id", "endpoint", "seed")
DEFAULT_SUFFIX = "{request_id}/{name}.{ext}"
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
#: S3's limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 200
#: bucket names: S3's rules (3-63 characters, lower case, digits, dots, hyphens); a
#: little looser for S3-compatible services that allow underscores or capitals.
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_EXT_OVERRIDES = {"image/jpeg": "jpg", "audio/mpeg": "mp3", "audio/wav": "wav", "video/mp4": "mp4"}


class TargetError(ValueError):
    """A ``--save-to`` value or a rendered key that cannot be used."""


@attrs.frozen
class Destination:
    """A parsed ``--save-to``: the bucket and the key template."""

    bucket: str
    template: str
    #: the template names one key (no placeholders, not a prefix).
    single: bool

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def parse(value: str) -> Destination:
    """Parse and check ``s3://bucket/template``; raise :class:`TargetError` if unusable."""
    if not value.lower().startswith("s3://"):
        raise TargetError("must start with s3:// (e.g. s3://bucket/prefix/{request_id}/)")
    rest = value[5:]
    bucket, _, template = rest.partition("/")
    if not _BUCKET.match(bucket):
        raise TargetError(f"invalid bucket name {bucket!r}")
    check_template(template)
    if template == "" or template.endswith("/"):
        template += "{name}.{ext}" if has_placeholders(template) else DEFAULT_SUFFIX
    single = not has_placeholders(template)
    if template.startswith("/"):
        raise TargetError("the key must not start with / (write s3://bucket/prefix/...)")
    return Destination(bucket, template, single)


def check_template(template: str) -> None:
    """Raise :class:`TargetError` naming an unknown placeholder or a stray brace."""
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name is not None and name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise TargetError(
                f"unknown placeholder {{{name}}} (known: {known}; write {{{{ for a brace)"
            )
    stripped = _TOKEN.sub("", template)
    if "{" in stripped or "}" in stripped:
        raise TargetError("unbalanced brace (write {{ or }} for a literal brace)")


def has_placeholders(template: str) -> bool:
    return any(m.group(1) is not None for m in _TOKEN.finditer(template))


def expand(template: str, values: Mapping[str, str]) -> str:
    """Substitute placeholders; an empty ``{ext}`` also drops the dot before it."""

    def sub(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values[match.group(1)]

    if not values.get("ext"):
        template = template.replace(".{ext}", "{ext}")
    return _TOKEN.sub(sub, template)


def safe_segment(value: str, fallback: str = "file") -> str:
    """``value`` as one safe key segment (the last ``/`` or ``\\`` part, no control
    characters, no leading dots or spaces, at most 200 UTF-8 bytes)."""
    text = unicodedata.normalize("NFC", str(value))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    text = text.strip().lstrip(". ").rstrip(". ")
    text = text.encode()[:MAX_SEGMENT_BYTES].decode(errors="ignore")
    return text or fallback


def ext_for_type(content_type: str | None) -> str:
    if not content_type:
        return ""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in _EXT_OVERRIDES:
        return _EXT_OVERRIDES[mime]
    guess = mimetypes.guess_extension(mime) or ""
    return guess.lstrip(".")


def split_ext(base: str) -> tuple[str, str]:
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]{1,16}", ext):
        return base, ""
    return stem, ext.lower()


def source_name(ref: MediaRef, content_type: str | None = None) -> tuple[str, str]:
    """(stem, ext) of an output: its ``file_name``, else the URL's last segment, else
    ``file``; the extension from the name, else the content type (the reference's, else
    the CDN's answer)."""
    type_ext = ext_for_type(ref.content_type) or ext_for_type(content_type)
    name = ref.file_name or unquote(urlsplit(ref.url).path.rstrip("/").rpartition("/")[2])
    if name:
        stem, ext = split_ext(safe_segment(name))
        return stem, ext or type_ext
    return "file", type_ext or "bin"


class KeyPlanner:
    """Renders one key per output of a run and keeps them unique within the run."""

    def __init__(self, dest: Destination, *, request_id: str, endpoint_id: str, seed: Any):
        self.dest = dest
        self.values = {
            "request_id": safe_segment(request_id, "request"),
            "endpoint": safe_segment(endpoint_id.replace("/", "_"), "endpoint"),
            "seed": safe_segment(str(seed), "none") if seed is not None else "none",
        }
        self._taken: set[str] = set()

    def key(self, ref: MediaRef, content_type: str | None = None) -> str:
        stem, ext = source_name(ref, content_type)
        values = {**self.values, "index": str(ref.index), "name": stem, "ext": ext}
        key = expand(self.dest.template, values)
        key = re.sub(r"/{2,}", "/", key)
        if any(part in (".", "..") for part in key.split("/")):
            raise TargetError(f"refusing a key with a . or .. segment: {key}")
        return self._reserve(key)

    def _reserve(self, key: str) -> str:
        head, slash, base = key.rpartition("/")
        stem, ext = split_ext(base)
        for n in range(10_000):
            candidate = key if n == 0 else f"{head}{slash}{stem}_{n}" + (f".{ext}" if ext else "")
            if candidate not in self._taken:
                break
        if len(candidate.encode()) > MAX_KEY_BYTES:
            raise TargetError(f"key longer than {MAX_KEY_BYTES} bytes: {candidate[:80]}…")
        self._taken.add(candidate)
        return candidate
