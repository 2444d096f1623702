"""Where each downloaded file goes: templates, safe names, collisions.

Extensions from content types and magic bytes are in :mod:`.formats`.

The ``--download`` value is read in one of three ways (upstream genmedia's rules):

* no value (a bare ``--download``), a value ending in ``/``, or an existing directory →
  that directory, each file under its source name;
* a value with placeholders (``{index}``, ``{name}``, ``{ext}``, ``{request_id}``,
  ``{endpoint}``, ``{seed}``) → the placeholders are substituted per file;
* anything else → that file path (several outputs get ``_1``, ``_2`` … suffixes).

Every value substituted into a path (a source name, a request id, an endpoint id) is first
reduced to a safe base name, so only the separators the user typed make directories; the
resolved path must still lie inside the directory the user chose (the literal directory
part of the value before any placeholder, else the current directory).
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from genmedia.types import MediaRef

from .formats import ext_for_type
from .sidecar import sidecar_path

PLACEHOLDERS = ("index", "name", "ext", "request_id", "endpoint", "seed")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
#: the longest value substituted for a placeholder (a source name, a request id …).
MAX_BASE_BYTES = 200
#: the longest final file name genmedia renders (extension kept), before a collision suffix:
#: ``_9999`` plus the sidecar's ``.json`` plus its temporary name (``.NAME.json.XXXXXXXX.tmp``)
#: still fit in the 255 bytes most file systems allow.
MAX_NAME_BYTES = 224
#: the longest directory name a template renders.
MAX_DIR_BYTES = 255
MAX_SUFFIX = 9999
#: a name that already ends in a collision suffix (``images_1``): a further collision
#: continues the count (``images_2``) instead of stacking (``images_1_1``).
_SUFFIXED = re.compile(r"(.+)_([1-9][0-9]{0,3})")


class NamingError(Exception):
    """A file cannot be given a safe name (it becomes a download failure)."""


# --------------------------------------------------------------------------- safe names


def safe_component(value: str, fallback: str = "file") -> str:
    """``value`` reduced to one safe path component.

    Only the last segment after any ``/`` or ``\\`` is kept; NUL and control characters are
    dropped; characters Windows forbids become ``_``; leading dots and spaces are stripped
    (no ``..``, no hidden files); the result is at most :data:`MAX_BASE_BYTES` UTF-8 bytes.
    An empty result becomes ``fallback``.
    """
    text = unicodedata.normalize("NFC", str(value))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    text = re.sub(r'[<>:"|?*]', "_", text)
    text = text.strip().lstrip(". ").rstrip(". ")
    text = _truncate(text, MAX_BASE_BYTES)
    return text or fallback


def _truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` UTF-8 bytes, keeping a short extension if there is one."""
    if len(text.encode()) <= limit:
        return text
    stem, dot, ext = text.rpartition(".")
    if dot and stem and 0 < len(ext.encode()) <= 16:
        room = limit - len(ext.encode()) - 1
        return stem.encode()[:room].decode(errors="ignore").rstrip(". ") + "." + ext
    return text.encode()[:limit].decode(errors="ignore")


def fit_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """``name`` cut to ``limit`` UTF-8 bytes, keeping its extension (``aaa….png``)."""
    return _truncate(name, limit) or "file"


def unescape(text: str) -> str:
    """``{{`` → ``{`` and ``}}`` → ``}`` (text without placeholders)."""
    return _TOKEN.sub(lambda m: m.group(0)[0] if m.group(1) is None else m.group(0), text)


def split_ext(base: str) -> tuple[str, str]:
    """``cat.PNG`` → ``("cat", "png")``; no dot → ``(base, "")``."""
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]{1,16}", ext):
        return base, ""
    return stem, ext.lower()


def source_name(ref: MediaRef) -> tuple[str, str]:
    """The (stem, extension) a media reference is saved under by default.

    From ``file_name``; else the URL's last path segment (URL-decoded); else ``file``.
    The extension is the text after the last dot, else the content type's, else none
    (``bin`` when there is no name at all).
    """
    type_ext = ext_for_type(ref.content_type)
    if ref.file_name:
        stem, ext = split_ext(safe_component(ref.file_name))
        return stem, ext or type_ext
    segment = unquote(urlsplit(ref.url).path.rstrip("/").rpartition("/")[2])
    if segment:
        stem, ext = split_ext(safe_component(segment))
        return stem, ext or type_ext
    return "file", type_ext or "bin"


# --------------------------------------------------------------------------- templates


def check_template(template: str) -> None:
    """Raise ValueError naming an unknown placeholder or a stray brace."""
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name is not None and name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValueError(
                f"unknown placeholder {{{name}}} (known: {known}; write {{{{ for a brace)"
            )
    stripped = _TOKEN.sub("", template)
    if "{" in stripped or "}" in stripped:
        raise ValueError("unbalanced brace (write {{ or }} for a literal brace)")


def has_placeholders(template: str) -> bool:
    return any(m.group(1) is not None for m in _TOKEN.finditer(template))


def expand(template: str, values: Mapping[str, str]) -> str:
    """Substitute placeholders; an empty ``{ext}`` also drops the dot before it."""

    def sub(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values[match.group(1)]

    if not values.get("ext"):
        template = template.replace(".{ext}", "{ext}")
    return _TOKEN.sub(sub, template)


@attrs.define
class Target:
    """One planned file: the chosen (collision-free) final path and how it was made."""

    ref: MediaRef
    path: Path
    #: the extension came from the source (name or content type), not typed by the user,
    #: so it may be corrected by the file's magic bytes.
    ext_derived: bool
    render: Callable[[str], Path] = attrs.field(repr=False)


class Namer:
    """Plans final paths for one run and keeps them unique (thread-safe).

    :param template: the ``--download`` value (``""``/``"."`` = the current directory).
    :param taken: extra "is this name taken on disk" test (e.g. a sidecar exists).
    """

    def __init__(
        self,
        template: str,
        *,
        request_id: str,
        endpoint_id: str,
        seed: Any = None,
        cwd: str | None = None,
        overwrite: bool = False,
        sidecar: bool = False,
    ) -> None:
        self.template = template or "."
        self.cwd = Path(cwd or os.getcwd())
        self.overwrite = overwrite
        self.sidecar = sidecar
        self.request_id = safe_component(request_id, "request")
        self.endpoint = safe_component(endpoint_id.replace("/", "_"), "endpoint")
        self.seed = safe_component(str(seed), "none") if seed is not None else "none"
        self._lock = threading.Lock()
        self._reserved: set[Path] = set()
        value = os.path.expanduser(self.template)
        #: continue ``_N`` suffixes (``images_1`` → ``images_2``) unless the name holds
        #: ``{index}``: ``img_1`` there is the second file, not a renamed first one.
        self.continue_suffixes = True
        if has_placeholders(value):
            self.mode = "template"
            # the root is the literal directory part, with ``{{``/``}}`` read as braces
            literal = unescape(value[: _first_placeholder(value)])
            root = literal.rpartition("/")[0] if "/" in literal else "."
            self.root = self._abs(root or "/")
            self.continue_suffixes = "{index}" not in value.rpartition("/")[2]
        else:
            value = unescape(value)  # no placeholders: ``{{``/``}}`` are still braces
            if value.endswith(("/", "\\")) or (self.cwd / value).is_dir():
                self.mode = "dir"
                self.root = self._abs(value)
            else:
                self.mode = "file"
                self.root = self._abs(value).parent
        self._value = value

    def _abs(self, path: str) -> Path:
        return Path(os.path.abspath(self.cwd / path))

    # -- planning ----------------------------------------------------------------------

    def plan(self, ref: MediaRef) -> Target:
        """The target for ``ref``, reserved so no other file of this run gets its name."""
        stem, ext = source_name(ref)
        if self.mode == "dir":

            def render(e: str) -> Path:
                return self.root / fit_name(f"{stem}.{e}" if e else stem)

            derived = True
        elif self.mode == "template":
            values = {
                "index": str(ref.index),
                "name": stem,
                "request_id": self.request_id,
                "endpoint": self.endpoint,
                "seed": self.seed,
            }

            def render(e: str) -> Path:
                return self._fit(self._abs(expand(self._value, {**values, "ext": e})))

            derived = "{ext}" in self._value
        else:
            path = self._abs(self._value)
            path = path.with_name(fit_name(path.name))

            def render(e: str) -> Path:
                return path

            derived = False
        return Target(ref, self.reserve(render(ext)), derived, render)

    def _fit(self, path: Path) -> Path:
        """Cut the rendered components below the root to what a file system allows."""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return path.with_name(fit_name(path.name))
        parts = [_truncate(p, MAX_DIR_BYTES) or "_" for p in rel.parts[:-1]]
        return self.root.joinpath(*parts, fit_name(rel.name))

    def reserve(self, path: Path) -> Path:
        """``path``, or the next free ``<stem>_N<ext>`` beside it; marks it as taken.

        A stem that already ends in ``_N`` continues from ``N + 1`` (``images_1`` taken →
        ``images_2``), so reruns never stack suffixes (no ``images_1_1``).
        """
        with self._lock:
            stem, ext = os.path.splitext(path.name)
            first = 1
            match = _SUFFIXED.fullmatch(stem) if self.continue_suffixes else None
            if match is not None:
                stem, first = match.group(1), int(match.group(2)) + 1
            for n in (0, *range(first, MAX_SUFFIX + 1)):
                candidate = path if n == 0 else path.with_name(f"{stem}_{n}{ext}")
                if candidate in self._reserved or self._taken_on_disk(candidate):
                    continue
                self._reserved.add(candidate)
                return candidate
        raise NamingError(f"no free name for {path} (tried up to _{MAX_SUFFIX})")

    def _taken_on_disk(self, path: Path) -> bool:
        if os.path.isdir(path):
            return True
        if self.overwrite:
            return False
        if os.path.lexists(path):
            return True
        return self.sidecar and os.path.lexists(sidecar_path(path))

    def retarget(self, target: Target, ext: str) -> Path:
        """Move ``target`` to the name with extension ``ext`` (after magic-byte sniffing).

        The old name stays reserved: the ``.part`` file being written is named after it.
        """
        wanted = target.render(ext)
        if wanted == target.path:
            return target.path
        target.path = self.reserve(wanted)
        return target.path

    def check_inside(self, path: Path) -> None:
        """Refuse a path whose real location escapes the chosen directory."""
        root = os.path.realpath(self.root)
        real = os.path.join(os.path.realpath(path.parent), path.name)
        if os.path.commonpath([root, real]) != root:
            raise NamingError(f"refusing to write outside {self.root}: {path}")


def _first_placeholder(value: str) -> int:
    for match in _TOKEN.finditer(value):
        if match.group(1) is not None:
            return match.start()
    return len(value)
