"""From remembered runs to gallery cards: media, links, facts and the reproducing command.

Pure data work (no HTML): :func:`make_cards` turns the :class:`~genmedia.records.RunRecord`
objects ``genmedia_list_runs`` returned into :class:`Card` objects, resolving each media
reference to a downloaded file (linked relative to the gallery, so it works from
``file://``) or, when no local copy exists, to its remote URL marked as expiring.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.records import RunFile, RunRecord

KINDS = ("image", "video", "audio", "3d", "file")

_EXTENSIONS = {
    "image": (".png", ".jpg", ".jpeg", ".webp", ".gif", ".avif", ".bmp", ".svg"),
    "video": (".mp4", ".webm", ".mov", ".m4v", ".mkv"),
    "audio": (".wav", ".mp3", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".opus"),
    "3d": (".glb", ".gltf", ".obj", ".ply", ".stl", ".fbx", ".usdz"),
}
_PATH_HINTS = (
    ("image", ("image", "mask", "frame")),
    ("video", ("video",)),
    ("audio", ("audio", "speech", "music", "sound")),
    ("3d", ("mesh", "model_glb", "glb", "3d")),
)


@attrs.frozen
class Media:
    """One media file of a run as the gallery shows it."""

    kind: str
    #: what ``src``/``href`` point at: a relative (URL-quoted) link or a remote URL.
    href: str
    local: bool
    json_path: str
    url: str
    content_type: str | None = None
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    #: the downloaded file, when it is on disk.
    path: str | None = None
    #: the local path recorded by a sink that is no longer on disk.
    missing_path: str | None = None


@attrs.frozen
class Card:
    """One run in the gallery."""

    request_id: str
    endpoint_id: str
    provider: str
    status: str
    submitted_at: float
    date: str  # local YYYY-MM-DD, for the date filter
    time: str  # local YYYY-MM-DD HH:MM
    iso_time: str  # UTC ISO 8601
    prompt: str | None
    command: str
    media: list[Media]
    seed: int | None = None
    size: str | None = None
    duration_s: float | None = None
    error: str | None = None
    #: the output marks the run was made under that are set (``RunRecord.marks`` with a
    #: true value, e.g. ``sandbox``): one badge each.
    marks: list[str] = attrs.field(factory=list)
    batch: str | None = None
    cost: str | None = None
    #: runs sharing a prompt share a group; None when the prompt is unique.
    group: str | None = None

    @property
    def kinds(self) -> list[str]:
        return sorted({m.kind for m in self.media}) or ["none"]


def media_kind(content_type: str | None, name: str, json_path: str) -> str:
    """image, video, audio, 3d or file: by content type, then extension, then JSON path."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.startswith(("image/", "video/", "audio/")):
        return ctype.split("/")[0]
    if ctype.startswith("model/") or ctype in ("application/octet-stream+glb",):
        return "3d"
    lowered = name.lower().split("?")[0]
    for kind, extensions in _EXTENSIONS.items():
        if lowered.endswith(extensions):
            return kind
    path = json_path.lower()
    for kind, hints in _PATH_HINTS:
        if any(h in path for h in hints):
            return kind
    return "file"


def link_to(path: Path, out_dir: Path) -> str:
    """A URL from the gallery page to ``path``: relative where possible (works from
    ``file://`` and under ``gallery serve``), else a ``file:`` URI."""
    try:
        rel = os.path.relpath(path, out_dir)
    except ValueError:  # another drive (Windows)
        return path.resolve().as_uri()
    return "/".join(quote(part) for part in Path(rel).parts)


def _local_time(ts: float) -> datetime:
    return datetime.fromtimestamp(ts).astimezone()


def _media_object(result: Mapping[str, Any], json_path: str) -> Mapping[str, Any]:
    from genmedia.output import extract_field

    if json_path == "result":
        return result
    try:
        found = extract_field(result, json_path)
    except Exception:
        return {}
    return found if isinstance(found, Mapping) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _media(record: RunRecord, out_dir: Path) -> list[Media]:
    from genmedia.types import iter_media

    files_by_path: dict[str, RunFile] = {}
    files_by_url: dict[str, RunFile] = {}
    for f in record.files:
        if f.json_path:
            files_by_path.setdefault(f.json_path, f)
        files_by_url.setdefault(f.url, f)
    result = record.result or {}
    found: list[Media] = []
    for ref in iter_media(result):
        obj = _media_object(result, ref.json_path)
        saved = files_by_path.get(ref.json_path) or files_by_url.get(ref.url)
        ctype = ref.content_type or (saved.content_type if saved else None)
        kind = media_kind(ctype, ref.file_name or (saved.path if saved else ref.url), ref.json_path)
        local = saved is not None and Path(saved.path).is_file()
        found.append(
            Media(
                kind=kind,
                href=link_to(Path(saved.path), out_dir) if local and saved else ref.url,
                local=local,
                json_path=ref.json_path,
                url=ref.url,
                content_type=ctype,
                size_bytes=(saved.size_bytes if saved else None) or ref.file_size,
                width=_int(obj.get("width")),
                height=_int(obj.get("height")),
                path=str(Path(saved.path).resolve()) if local and saved else None,
                missing_path=saved.path if saved and not local else None,
            )
        )
    return found


def _size(record: RunRecord, media: list[Media]) -> str | None:
    for m in media:
        if m.width and m.height:
            return f"{m.width}×{m.height}"
    inputs = record.input or {}
    for key in ("image_size", "resolution", "aspect_ratio"):
        value = inputs.get(key)
        if isinstance(value, Mapping) and _int(value.get("width")) and _int(value.get("height")):
            return f"{value['width']}×{value['height']}"
        if isinstance(value, str) and value:
            return value
    return None


def command_for(record: RunRecord, seed: int | None) -> str:
    """The exact command that submits this run again: its recorded input as flags (JSON
    for objects and arrays), plus the seed the model reported when the input had none.

    A value that no flag can carry (the text ``-``, which ``run`` reads as standard
    input) makes the command pipe the whole input as JSON into ``--input -``.
    """
    inputs = dict(record.input or {})
    if seed is not None and "seed" not in inputs:
        inputs["seed"] = seed
    head = [*invocation_words(record), "run", record.endpoint_id]
    if any(v == "-" for v in inputs.values()):
        payload = json.dumps(inputs, ensure_ascii=False, separators=(",", ":"))
        return f"printf '%s' {shlex.quote(payload)} | " + shlex.join([*head, "--input", "-"])
    args = list(head)
    for key, value in inputs.items():
        args += [f"--{key}", _flag_value(value)]
    return shlex.join(args)


def invocation_words(record: RunRecord) -> list[str]:
    """The command words the run was made under (``RunRecord.invocation``, e.g.
    ``genmedia --sandbox``): ``genmedia`` when the store does not know them."""
    try:
        words = shlex.split(record.invocation or "")
    except ValueError:
        words = []
    return words or ["genmedia"]


def _flag_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # ``@path`` reads a file; ``@@`` is a literal ``@``.
        return "@" + value if value.startswith("@") else value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_SPACE = re.compile(r"\s+")


def prompt_key(prompt: str | None) -> str | None:
    if not prompt:
        return None
    return _SPACE.sub(" ", prompt).strip().casefold() or None


def make_cards(records: Iterable[RunRecord], out_dir: Path) -> list[Card]:
    """Cards, newest first, with the groups of runs that share a prompt."""
    from genmedia.media import seed_of
    from genmedia.records import set_marks

    cards: list[Card] = []
    for record in records:
        media = _media(record, out_dir)
        seed = seed_of(record.result, record.input, (int,))
        moment = _local_time(record.submitted_at)
        finished = record.completed_at
        cards.append(
            Card(
                request_id=record.request_id,
                endpoint_id=record.endpoint_id,
                provider=record.provider,
                status=record.status,
                submitted_at=record.submitted_at,
                date=moment.strftime("%Y-%m-%d"),
                time=moment.strftime("%Y-%m-%d %H:%M"),
                iso_time=datetime.fromtimestamp(record.submitted_at, UTC)
                .isoformat(timespec="seconds")
                .replace("+00:00", "Z"),
                prompt=record.prompt,
                command=command_for(record, seed),
                media=media,
                seed=seed,
                size=_size(record, media),
                duration_s=round(finished - record.submitted_at, 1) if finished else None,
                error=record.error,
                marks=set_marks(record.marks),
                batch=record.batch,
            )
        )
    cards.sort(key=lambda c: c.submitted_at, reverse=True)
    return _grouped(cards)


def _grouped(cards: list[Card]) -> list[Card]:
    """Mark runs of one prompt across several models or seeds (the side-by-side view)."""
    members: dict[str, list[Card]] = {}
    for card in cards:
        key = prompt_key(card.prompt)
        if key:
            members.setdefault(key, []).append(card)
    groups: dict[str, str] = {}
    for number, (key, group) in enumerate(
        sorted(members.items(), key=lambda kv: -kv[1][0].submitted_at), start=1
    ):
        variants = {(c.endpoint_id, c.seed) for c in group}
        if len(group) > 1 and len(variants) > 1:
            groups[key] = f"g{number}"
    return [attrs.evolve(c, group=groups.get(prompt_key(c.prompt) or "")) for c in cards]
