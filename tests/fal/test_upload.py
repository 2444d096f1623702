"""upload: the CDN-token flow, simple and multipart (threshold shrunk by env vars)."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import httpx


def fetch(url: str) -> bytes:
    response = httpx.get(url)
    assert response.status_code == 200, url
    return response.content


def cdn_calls(server, method: str | None = None) -> list:
    return [
        r for r in server.requests if r.role == "cdn" and (method is None or r.method == method)
    ]


def test_upload_simple(cli, fal_sandbox_env, tmp_path):
    path = tmp_path / "cat.png"
    data = os.urandom(50_000)
    path.write_bytes(data)
    result = cli("upload", str(path))
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["url"] == doc["cdn_url"] and doc["url"].startswith(fal_sandbox_env.urls["cdn"])
    assert doc["file_name"] == "cat.png" and doc["content_type"] == "image/png"
    assert doc["size_bytes"] == len(data)
    assert fetch(doc["url"]) == data
    rest = [r for r in fal_sandbox_env.requests if r.role == "rest"]
    assert [r.path for r in rest] == ["/storage/auth/token"] and rest[0].has_authorization
    (post,) = cdn_calls(fal_sandbox_env, "POST")
    assert post.path == "/files/upload"


def test_upload_multipart_in_parallel_parts_with_a_retried_part(
    cli, fal_sandbox_env, tmp_path, monkeypatch
):
    monkeypatch.setenv("GENMEDIA_FAL_MULTIPART_THRESHOLD", "64k")
    monkeypatch.setenv("GENMEDIA_FAL_PART_SIZE", "32k")
    fal_sandbox_env.add_fault(
        role="cdn",
        path="*/multipart/*/3",
        method="PUT",
        kind="status",
        code=503,
        retry_after=0,
        count=1,
    )
    path = tmp_path / "clip.mp4"
    data = os.urandom(200_000)
    path.write_bytes(data)
    result = cli("upload", str(path))
    assert result.exit_code == 0, result
    assert result.json["content_type"] == "video/mp4"
    assert fetch(result.json["url"]) == data
    puts = [r for r in cdn_calls(fal_sandbox_env, "PUT")]
    numbers = sorted(int(r.path.rsplit("/", 1)[1]) for r in puts if r.status_code == 200)
    assert numbers == list(range(1, 8))  # 200 000 bytes / 32 KiB = 7 parts
    assert [r.status_code for r in puts if r.path.endswith("/3")] == [503, 200]
    assert any(r.path.endswith("/complete") for r in cdn_calls(fal_sandbox_env, "POST"))


def test_upload_multipart_memory_stays_flat(fal_sandbox_env, tmp_path, monkeypatch):
    from genmedia.context import AppContext
    from genmedia_fal.provider import FalProvider

    monkeypatch.setenv("GENMEDIA_FAL_MULTIPART_THRESHOLD", "1M")
    monkeypatch.setenv("GENMEDIA_FAL_PART_SIZE", "4M")
    path = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        for _ in range(24):
            block = os.urandom(1 << 20)
            digest.update(block)
            fh.write(block)
    app = AppContext()
    try:
        provider = FalProvider(app)
        provider.upload(str(path))  # warm up: imports and the CDN token are not the point
        tracemalloc.start()
        uploaded = provider.upload(str(path))
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        app.close()
    assert hashlib.sha256(fetch(uploaded.url)).hexdigest() == digest.hexdigest()
    # 24 MiB went up in 4 MiB parts, 4 at a time, read in 256 KiB blocks.
    assert peak < 8 * (1 << 20), peak


def test_upload_a_url_source(cli, fal_sandbox_env):
    source = fal_sandbox_env.make_file(10_000, content_type="image/webp", name="pic.webp")
    result = cli("upload", source)
    assert result.exit_code == 0, result
    assert result.json["url"] != source
    assert result.json["file_name"] == "pic.webp" and result.json["content_type"] == "image/webp"
    assert fetch(result.json["url"]) == fetch(source)


def test_upload_a_url_source_retries_a_503_then_maps_404(cli, fal_sandbox_env):
    source = fal_sandbox_env.make_file(2_000, content_type="image/png", name="p.png")
    fal_sandbox_env.add_fault(
        role="cdn", method="GET", kind="status", code=503, count=1, retry_after=0
    )
    result = cli("upload", source)
    assert result.exit_code == 0, result
    gets = [r for r in fal_sandbox_env.requests if r.role == "cdn" and r.method == "GET"]
    assert [r.status_code for r in gets][:2] == [503, 200]
    missing = fal_sandbox_env.urls["cdn"] + "/files/no-such-key/nothing-here.png"
    result = cli("upload", missing)
    assert result.exit_code == 4
    assert result.error["error"].startswith(f"Failed to fetch {missing}: 404")


def test_upload_missing_file(cli, fal_sandbox_env, tmp_path):
    result = cli("upload", str(tmp_path / "nope.png"))
    assert result.exit_code == 4
    assert result.error["error"].startswith("File not found: ")
    assert not [r for r in fal_sandbox_env.requests if r.role in ("rest", "cdn")]


def test_upload_without_key(cli, fal_sandbox_env, tmp_path, monkeypatch):
    monkeypatch.delenv("FAL_KEY")
    path = tmp_path / "a.txt"
    path.write_text("hi")
    result = cli("upload", str(path))
    assert result.exit_code == 3
