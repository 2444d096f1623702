"""Provenance sidecars (``--sidecar``): ``<file>.json`` beside each downloaded file.

The sidecar says where the file came from — endpoint, request id, the input that was
submitted, the seed, the source URL and its place in the result — and what was saved
(size, SHA-256, content type), so a file copied elsewhere still carries its history.
It is written atomically (temporary file, fsync, rename) and never through a symlink.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import attrs

from genmedia import __version__
from genmedia.media import seed_of, sidecar_name
from genmedia.types import JsonDict, MediaRef, RunResult, SavedFile


@attrs.frozen
class Provenance:
    """The content of a sidecar file (``None`` fields are left out)."""

    endpoint_id: str
    request_id: str
    source_url: str
    json_path: str
    file_name: str
    size_bytes: int
    sha256: str | None
    content_type: str | None
    input: JsonDict
    seed: Any = None
    downloaded_at: str = ""
    generator: str = f"genmedia/{__version__}"
    #: the output marks of the run (``Settings.marks``: ``"sandbox": true`` against the
    #: emulator), each a key of the sidecar.
    marks: JsonDict = attrs.field(factory=dict, metadata={"flatten": True})


def sidecar_path(file: Path) -> Path:
    """The JSON file beside ``file`` that describes it (a provenance sidecar, or the
    metadata of a kept partial download): :func:`genmedia.media.sidecar_name`."""
    return file.with_name(sidecar_name(file.name))


def build(
    result: RunResult, ref: MediaRef, saved: SavedFile, marks: JsonDict | None = None
) -> Provenance:
    return Provenance(
        endpoint_id=result.endpoint_id,
        request_id=result.request_id,
        source_url=ref.url,
        json_path=ref.json_path,
        file_name=Path(saved.path).name,
        size_bytes=saved.size_bytes,
        sha256=saved.sha256,
        content_type=saved.content_type,
        input=result.input,
        seed=seed_of(result.result, result.input, (object,)),
        downloaded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        marks=dict(marks or {}),
    )


def write_sidecar(
    file: Path, result: RunResult, ref: MediaRef, saved: SavedFile, *, marks: JsonDict | None = None
) -> Path:
    """Write ``<file>.json`` atomically; returns its path."""
    from genmedia.files import atomic_write
    from genmedia.serialization import unstructure

    target = sidecar_path(file)
    text = json.dumps(
        unstructure(build(result, ref, saved, marks)), indent=2, ensure_ascii=False, default=str
    )
    # the file's own mode (umask); a symlink at the target is replaced, never written through
    atomic_write(target, text + "\n", mode=stat.S_IMODE(os.stat(file).st_mode))
    return target
