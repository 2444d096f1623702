"""``genmedia gallery serve``: a real server process on 127.0.0.1, byte ranges, allow-list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture
def served(three_runs: dict[str, Any], tmp_path: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    out = tmp_path / "served-gallery"
    proc = subprocess.Popen(
        [sys.executable, "-m", "genmedia", "gallery", "serve", "--out", str(out), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GENMEDIA_OUTPUT": "json"},
    )
    try:
        text = ""
        while True:  # one JSON document, printed once the server listens
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                pytest.fail(f"serve ended: {proc.stderr.read() if proc.stderr else ''}")
            text += line
            try:
                doc = json.loads(text)
                break
            except ValueError:
                continue
        yield doc, out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_pages_and_ranges(served, three_runs):
    doc, out = served
    assert doc["url"].startswith("http://127.0.0.1:") and doc["url"].endswith("/index.html")
    page = httpx.get(doc["url"])
    assert page.status_code == 200 and "genmedia gallery" in page.text
    assert page.headers["content-type"].startswith("text/html")

    video = Path(three_runs["video"]["downloaded_files"][0]["path"])
    body = video.read_bytes()
    # the page's relative link, resolved against the page URL, is what the browser asks for
    rel = next(a for a in page.text.split('"') if a.endswith("video.mp4"))
    url = httpx.URL(doc["url"]).join(rel)
    full = httpx.get(url)
    assert full.status_code == 200 and full.content == body
    assert full.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(body)}"
    assert part.content == body[100:1100]
    tail = httpx.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == body[-10:]
    beyond = httpx.get(url, headers={"Range": f"bytes={len(body)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(body)}"


def test_serve_serves_nothing_else(served, tmp_path):
    doc, out = served
    base = httpx.URL(doc["url"])
    secret = out.parent / "secret.txt"
    secret.write_text("not for the browser")
    for path in ("../secret.txt", "../../etc/passwd", "%2e%2e/secret.txt", "nope.html"):
        assert httpx.get(base.join(path)).status_code == 404, path
    rebinding = httpx.get(doc["url"], headers={"Host": "evil.example"})
    assert rebinding.status_code == 403
