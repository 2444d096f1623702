"""Helpers for the download sink tests: results whose media live on the emulator's CDN.

``put`` stores exact bytes on the emulator (``server.make_file`` only makes opaque
blobs), ``result_for`` builds a :class:`RunResult` pointing at them, and ``finish`` runs
the output sinks through :func:`genmedia.pipeline.finish`, exactly as ``run`` and
``status`` do after a job completes.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from genmedia import pipeline
from genmedia.context import AppContext
from genmedia.serialization import unstructure
from genmedia.types import RunResult

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


@attrs.define
class Finished:
    doc: dict[str, Any]
    exit_code: int
    stderr: str

    @property
    def saved(self) -> list[dict[str, Any]]:
        return self.doc.get("downloaded_files", [])

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self.doc.get("download_failures", [])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes with no recognisable magic number."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    out[0] = 0x00  # never a magic number
    return bytes(out[:size])


def jail(workdir: Path) -> list[str]:
    """Every file in the test's jail (three levels above the working directory)."""
    return listing(workdir.parents[2])


def listing(root: Path) -> list[str]:
    """Every file below ``root`` (relative, sorted), symlinks included."""
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            found.append(str(Path(dirpath, name).relative_to(root)))
    return sorted(found)


@pytest.fixture
def put(fal_sandbox: Any) -> Callable[..., str]:
    """``put(data, name, content_type)`` → a CDN URL serving exactly ``data`` (Range, ETag)."""
    from genmedia_sandbox.storage import Storage

    def store(
        data: bytes, name: str = "file.bin", content_type: str = "application/octet-stream"
    ) -> str:
        stored = fal_sandbox.sandbox.storage.put_bytes(data, name, content_type)
        return Storage.url(fal_sandbox.urls["cdn"], stored)

    return store


@pytest.fixture
def result_for() -> Callable[..., RunResult]:
    def build(
        media: dict[str, Any] | list[dict[str, Any]],
        *,
        request_id: str = "019a-test-request",
        endpoint_id: str = "fal-ai/flux/schnell",
        **extra: Any,
    ) -> RunResult:
        body = {"images": media} if isinstance(media, list) else dict(media)
        body.update(extra)
        return RunResult(
            endpoint_id=endpoint_id,
            request_id=request_id,
            result=body,
            input={"prompt": "a cat", "seed": extra.get("seed")},
        )

    return build


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # deep inside a "jail" directory, so a file escaping by a few ../ is still seen
    work = tmp_path / "jail" / "a" / "b" / "proj"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    yield work


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short backoff so retry tests stay fast (the policy's shape is unchanged)."""
    from genmedia.http import RetryPolicy
    from genmedia_download import fetch

    monkeypatch.setattr(fetch, "POLICY", RetryPolicy(attempts=5, base=0.01, cap=0.05, total=10.0))


@pytest.fixture
def finish(workdir: Path) -> Iterator[Callable[..., Finished]]:
    """Run every output sink on a result: ``finish(result, download="out/")``."""
    contexts: list[AppContext] = []

    def run(result: RunResult, ctx: AppContext | None = None, **options: Any) -> Finished:
        err = io.StringIO()
        app = ctx or AppContext(stdout=io.StringIO(), stderr=err)
        contexts.append(app)
        doc, code = pipeline.finish(app, result, options)
        return Finished(unstructure(doc), code, err.getvalue())

    yield run
    for app in contexts:
        app.close()
