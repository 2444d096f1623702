"""Uploads of files whose names are not ASCII (accents, emoji, CJK, control characters):
``X-Fal-File-Name`` carries the name percent-encoded as UTF-8, and the emulator stores
the original name (the file's URL holds it once encoded, like fal's)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

NAMES = ["café.png", "😀 party.png", "猫の写真.png", "naïve\tname.png", "100%.png"]


@pytest.mark.parametrize("name", NAMES)
def test_upload_keeps_a_non_ascii_name(cli, fal_sandbox_env, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"\x89PNG fake bytes")
    result = cli("upload", str(path))
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["file_name"] == name
    assert doc["url"].endswith("/" + quote(name)), doc["url"]
    assert httpx.get(doc["url"]).content == b"\x89PNG fake bytes"
    [post] = [r for r in fal_sandbox_env.requests if r.role == "cdn" and r.method == "POST"]
    assert post.status_code == 200


def test_multipart_upload_keeps_a_non_ascii_name(cli, fal_sandbox_env, tmp_path, monkeypatch):
    monkeypatch.setenv("GENMEDIA_FAL_MULTIPART_THRESHOLD", "16k")
    monkeypatch.setenv("GENMEDIA_FAL_PART_SIZE", "8k")
    path = tmp_path / "vidéo 動画 🎬.mp4"
    path.write_bytes(b"x" * 40_000)
    result = cli("upload", str(path))
    assert result.exit_code == 0, result
    assert result.json["url"].endswith("/" + quote(path.name))


def test_run_uploads_a_local_file_with_a_non_ascii_name(cli, fal_sandbox_env, tmp_path):
    path = tmp_path / "photo-été-写真-🙂.png"
    path.write_bytes(b"\x89PNG fake bytes")
    result = cli("run", "fal-ai/esrgan", "--image_url", str(path))
    assert result.exit_code == 0, result
    [job] = fal_sandbox_env.jobs
    assert job.input["image_url"].endswith("/" + quote(path.name))


def test_header_file_name_is_ascii_and_round_trips():
    from urllib.parse import unquote

    from genmedia_fal.storage import header_file_name

    for name in [*NAMES, "plain name (1).png", "a\udcffb.png"]:
        encoded = header_file_name(name)
        assert encoded.isascii() and encoded.isprintable()
        if "\udcff" not in name:
            assert unquote(encoded) == name
    assert header_file_name("plain name (1).png") == "plain name (1).png"
