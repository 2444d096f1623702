"""Real media: valid files of the promised type and size, deterministic, schema-conforming results."""

from __future__ import annotations

import io
import json
import struct
import wave
import zlib

import httpx
import pytest

from genmedia_sandbox import media
from genmedia_sandbox.catalog import Catalog
from genmedia_sandbox.outputs import build_output
from genmedia_sandbox.validation import InputValidator

CATALOG = Catalog()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + 3 * width)
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    i = 2
    while True:
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker == 0xC0:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length


@pytest.mark.parametrize(("w", "h"), [(1024, 768), (13, 7), (512, 512), (1, 1)])
def test_png_and_jpeg_dimensions(w, h):
    assert _png_size(media.png(w, h, 3)) == (w, h)
    assert _jpeg_size(media.jpeg(w, h, 3)) == (w, h)


def test_images_decode_with_pillow():
    image_mod = pytest.importorskip("PIL.Image", reason="Pillow is an optional test-only decoder")
    for data, fmt in ((media.png(300, 200, 1), "PNG"), (media.jpeg(300, 200, 1), "JPEG")):
        img = image_mod.open(io.BytesIO(data))
        img.load()
        assert (img.format, img.size) == (fmt, (300, 200))
    png = image_mod.open(io.BytesIO(media.png(64, 64, 9))).convert("RGB")
    jpg = image_mod.open(io.BytesIO(media.jpeg(64, 64, 9))).convert("RGB")
    assert all(
        abs(a - b) <= 3 for a, b in zip(png.getpixel((5, 5)), jpg.getpixel((5, 5)), strict=True)
    )


def test_wav_duration():
    with wave.open(io.BytesIO(media.wav(2.5, 4))) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        assert w.getnframes() / w.getframerate() == pytest.approx(2.5)


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, bytes]:
    out, i, end = {}, start, len(data) if end is None else end
    while i < end:
        size, tag = struct.unpack(">I4s", data[i : i + 8])
        out[tag] = data[i + 8 : i + size]
        i += size
    return out


def test_mp4_is_a_valid_iso_bmff_container():
    data = media.mp4(3, 5)
    top = _boxes(data)
    assert list(top)[:3] == [b"ftyp", b"moov", b"mdat"]
    moov = _boxes(top[b"moov"])
    mvhd = moov[b"mvhd"]
    timescale, duration = struct.unpack(">II", mvhd[12:20])
    assert duration / timescale == 3
    trak = _boxes(moov[b"trak"])
    assert b"tkhd" in trak and b"mdia" in trak


def test_mp4_decodes_with_pyav():
    av = pytest.importorskip("av", reason="PyAV is an optional test-only decoder")
    with av.open(io.BytesIO(media.mp4(4, 2, 144, 256))) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 144, 256)
        frames = list(container.decode(video=0))
    assert len(frames) == 4


def test_glb_structure():
    data = media.glb(3)
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_len, kind = struct.unpack("<I4s", data[12:20])
    gltf = json.loads(data[20 : 20 + json_len])
    assert kind == b"JSON" and gltf["asset"]["version"] == "2.0"


def test_blob_range_is_consistent():
    whole = b"".join(media.blob_range("s", 200_000, 0, 199_999))
    assert len(whole) == 200_000
    assert b"".join(media.blob_range("s", 200_000, 70_000, 140_000)) == whole[70_000:140_001]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("square_hd", (1024, 1024)),
        ("portrait_16_9", (576, 1024)),
        ({"width": 320, "height": 200}, (320, 200)),
    ],
)
def test_image_size_and_num_images(fal, size, expected):
    body = fal.run("fal-ai/flux/schnell", {"prompt": "x", "image_size": size, "num_images": 3,
                                             "output_format": "png"}).json()  # fmt: skip
    assert len(body["images"]) == 3 and body["has_nsfw_concepts"] == [False] * 3
    for image in body["images"]:
        assert (image["width"], image["height"]) == expected
        resp = httpx.get(image["url"])
        assert resp.headers["content-type"] == image["content_type"] == "image/png"
        assert _png_size(resp.content) == expected


def test_video_audio_and_3d_results(fal):
    video = fal.run(
        "fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"prompt": "x", "duration": "10"}
    ).json()["video"]
    assert video["content_type"] == "video/mp4" and video["file_name"].endswith(".mp4")
    data = httpx.get(video["url"]).content
    assert len(data) == video["file_size"] and data[4:8] == b"ftyp"
    audio = fal.run(
        "fal-ai/stable-audio-25/text-to-audio", {"prompt": "rain", "seconds_total": 3}
    ).json()["audio"]
    with wave.open(io.BytesIO(httpx.get(audio["url"]).content)) as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(3)
    mesh = fal.run("fal-ai/trellis", {"image_url": "https://v3.fal.media/files/a.png"}).json()[
        "model_mesh"
    ]
    assert (
        mesh["content_type"] == "model/gltf-binary"
        and httpx.get(mesh["url"]).content[:4] == b"glTF"
    )


def test_deterministic_from_endpoint_input_seed(fal):
    payload = {"prompt": "same", "seed": 42}
    a = fal.run("fal-ai/flux/schnell", payload).json()
    b = fal.run("fal-ai/flux/schnell", payload).json()
    c = fal.run("fal-ai/flux/schnell", {"prompt": "same", "seed": 43}).json()
    get = lambda body: httpx.get(body["images"][0]["url"]).content  # noqa: E731
    assert get(a) == get(b) != get(c)
    unseeded = fal.run("fal-ai/flux/schnell", {"prompt": "no seed"}).json()
    assert unseeded["seed"] == fal.run("fal-ai/flux/schnell", {"prompt": "no seed"}).json()["seed"]


def _example_input(model) -> dict:
    schema = model.input_schema or {}
    payload = {}
    for key in schema.get("required", []):
        prop = model.resolve(schema["properties"][key])
        if "examples" in prop:
            payload[key] = prop["examples"][0]
        elif "default" in prop:
            payload[key] = prop["default"]
        elif "enum" in prop:
            payload[key] = prop["enum"][0]
        else:
            payload[key] = "https://v3.fal.media/files/example.png"
    return payload


@pytest.mark.parametrize("endpoint_id", list(CATALOG.models))
def test_every_catalog_model_output_conforms(endpoint_id, fal_sandbox):
    model = CATALOG.get(endpoint_id)
    validator = InputValidator()
    payload = _example_input(model)
    assert validator.errors(model.openapi, model.input_name, payload) == []
    out = build_output(model, payload, 11, fal_sandbox.sandbox.storage, fal_sandbox.urls["cdn"])
    assert validator.output_errors(model.openapi, model.output_name, out) == []
    if model.category != "speech-to-text":
        assert '"url": "http' in json.dumps(out)
