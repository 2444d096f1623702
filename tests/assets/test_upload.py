"""``assets upload``: fal-hosted URLs pass through, everything else goes to storage first."""

from __future__ import annotations

import struct
import zlib

from genmedia import errors


def png_bytes(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\0" + b"\0\0\0" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def storage_calls(lib):
    lib.settle()
    return [r for r in lib.server.requests if r.role in ("rest", "cdn") and r.method != "GET"]


def test_fal_hosted_url_passes_through_with_every_flag(lib):
    tag1, tag2 = lib.tag("one"), lib.tag("two")
    coll = lib.collection()
    url = lib.file_url("clip.mp4", "video/mp4")

    out = lib.ok(
        "assets", "upload", url, "--prompt", "a clip", "--favorite",
        "--collection_id", coll["id"], "--tag_id", f"{tag1['id']},{tag2['id']}",
    )  # fmt: skip
    asset = out["asset"]
    assert asset["url"] == url  # not re-uploaded
    assert asset["type"] == "video"  # inferred from .mp4
    assert asset["source"] == "upload" and asset["prompt"] == "a clip"
    assert asset["is_favorited"] is True
    assert asset["collection_ids"] == [coll["id"]]
    assert [t["id"] for t in asset["tags"]] == [tag1["id"], tag2["id"]]
    assert storage_calls(lib) == []
    assert [c.status_code for c in lib.api_calls("POST", "/assets/uploads")] == [201]


def test_explicit_type_and_extensionless_urls(lib):
    url = lib.file_url("blob", "application/octet-stream")
    result = lib.cli("assets", "upload", url)
    assert result.exit_code == errors.EXIT_VALIDATION
    assert result.error == {
        "error": "Could not infer --type from file extension; pass --type explicitly",
        "details": {"allowed": ["image", "video", "audio", "3d"]},
    }
    assert lib.ok("assets", "upload", url, "--type", "3d")["asset"]["type"] == "3d"


def test_invalid_type_fails_before_anything_is_sent(lib, tmp_path):
    path = tmp_path / "cat.png"
    path.write_bytes(png_bytes())
    result = lib.cli("assets", "upload", str(path), "--type", "hologram")
    assert result.exit_code == errors.EXIT_VALIDATION
    assert result.error["error"] == "Invalid --type: hologram"
    assert result.error["details"] == {"allowed": ["image", "video", "audio", "3d"]}
    assert lib.server.requests == []


def test_missing_local_file(lib, tmp_path):
    result = lib.cli("assets", "upload", str(tmp_path / "nope.png"))
    assert result.exit_code == errors.EXIT_USAGE
    assert result.error["error"].startswith("File not found")
    assert lib.server.requests == []


def test_local_file_goes_to_storage_first(lib, tmp_path):
    data = png_bytes(5, 4)
    path = tmp_path / "portrait.png"
    path.write_bytes(data)

    asset = lib.ok("assets", "upload", str(path), "--prompt", "a portrait")["asset"]
    assert asset["type"] == "image"
    assert asset["url"].startswith(lib.server.urls["cdn"] + "/files/")
    assert storage_calls(lib), "the file was not sent to storage"
    # the registered URL serves the very bytes of the local file
    import httpx

    assert httpx.get(asset["url"]).content == data


def test_local_file_without_extension_is_sniffed(lib, tmp_path):
    path = tmp_path / "photo"
    path.write_bytes(png_bytes())
    assert lib.ok("assets", "upload", str(path))["asset"]["type"] == "image"


def test_non_fal_url_is_copied_to_storage(lib):
    source = lib.file_url("song.wav", "audio/wav")
    # same server, other spelling: not the configured CDN, so it counts as external
    external = source.replace("127.0.0.1", "localhost", 1)
    asset = lib.ok("assets", "upload", external)["asset"]
    assert asset["type"] == "audio"
    assert asset["url"] != external
    assert asset["url"].startswith(lib.server.urls["cdn"] + "/files/")
    assert storage_calls(lib)
