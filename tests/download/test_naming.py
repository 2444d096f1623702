"""Naming rules without the network: safe names, source names, templates, sniffing."""

from __future__ import annotations

from pathlib import Path

import pytest

from genmedia.types import MediaRef
from genmedia_download.formats import corrected_ext, sniff
from genmedia_download.naming import (
    Namer,
    check_template,
    safe_component,
    source_name,
)


def ref(url: str = "https://v3.fal.media/files/x/abc_cat.png", **kw) -> MediaRef:
    return MediaRef(url=url, json_path="images[0]", index=kw.pop("index", 0), **kw)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("cat.png", "cat.png"),
        ("../../x.png", "x.png"),
        ("/etc/passwd", "passwd"),
        ("a\\b\\c.png", "c.png"),
        ("..", "file"),
        ("", "file"),
        ("...hidden", "hidden"),
        ("nul\x00byte.png", "nulbyte.png"),
        ("tab\tand\nnewline.png", "tabandnewline.png"),
        ("what?.png", "what_.png"),
        ("é" * 300 + ".png", None),
    ],
)
def test_safe_component(raw, safe):
    got = safe_component(raw)
    assert "/" not in got and "\\" not in got and not got.startswith(".")
    assert len(got.encode()) <= 200
    if safe is not None:
        assert got == safe
    else:
        assert got.endswith(".png")


def test_source_name_order():
    assert source_name(ref(file_name="out.WEBP")) == ("out", "webp")
    assert source_name(ref(file_name="noext", content_type="image/jpeg")) == ("noext", "jpg")
    assert source_name(ref(url="https://h/files/a/b%20c.mp4")) == ("b c", "mp4")
    assert source_name(ref(url="https://h/files/a/blob", content_type="audio/mpeg")) == (
        "blob",
        "mp3",
    )
    assert source_name(ref(url="https://h/", content_type="model/gltf-binary")) == ("file", "glb")
    assert source_name(ref(url="https://h/")) == ("file", "bin")


@pytest.mark.parametrize(
    "template", ["{index}.{ext}", "a/{name}", "{{x}}{seed}", "{endpoint}/{request_id}"]
)
def test_valid_templates(template):
    check_template(template)


@pytest.mark.parametrize("template", ["{nme}", "{index", "x}", "{0}", "{name.__class__}"])
def test_invalid_templates(template):
    with pytest.raises(ValueError):
        check_template(template)


def test_template_root_and_values(tmp_path):
    namer = Namer("out/{request_id}/{index}_{name}.{ext}", request_id="r/../1", endpoint_id="a/b",
                  cwd=str(tmp_path))  # fmt: skip
    assert namer.mode == "template" and namer.root == tmp_path / "out"
    target = namer.plan(ref(index=3))
    assert target.path == tmp_path / "out" / "1" / "3_abc_cat.png"
    assert target.ext_derived


def test_collisions_within_a_run(tmp_path):
    namer = Namer("out/x.png", request_id="r", endpoint_id="e", cwd=str(tmp_path))
    paths = [namer.plan(ref(index=i)).path.name for i in range(3)]
    assert paths == ["x.png", "x_1.png", "x_2.png"]


def test_collisions_on_disk_and_overwrite(tmp_path):
    (tmp_path / "abc_cat.png").write_bytes(b"x")
    assert (
        Namer(".", request_id="r", endpoint_id="e", cwd=str(tmp_path)).plan(ref()).path.name
        == "abc_cat_1.png"
    )
    replace = Namer(".", request_id="r", endpoint_id="e", cwd=str(tmp_path), overwrite=True)
    assert replace.plan(ref()).path.name == "abc_cat.png"
    (tmp_path / "sub").mkdir()
    assert Namer("sub", request_id="r", endpoint_id="e", cwd=str(tmp_path)).mode == "dir"


def test_check_inside(tmp_path):
    namer = Namer("out/", request_id="r", endpoint_id="e", cwd=str(tmp_path))
    namer.check_inside(tmp_path / "out" / "a.png")
    with pytest.raises(Exception, match="outside"):
        namer.check_inside(tmp_path / "elsewhere" / "a.png")


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"\xff\xd8\xff\xe0", "jpg"),
        (b"GIF89a", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"\x00\x00\x00\x18ftypisom", "mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "webm"),
        (b"ID3\x04", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"OggS\x00", "ogg"),
        (b"fLaC\x00", "flac"),
        (b"glTF\x02\x00", "glb"),
        (b"%PDF-1.7", "pdf"),
    ],
)
def test_sniff(head, ext):
    found = sniff(head + bytes(16))
    assert found is not None and found.ext == ext


def test_correction_rules():
    png = sniff(b"\x89PNG\r\n\x1a\n" + bytes(8))
    assert corrected_ext("jpg", png) == "png"
    assert corrected_ext("", png) == "png" and corrected_ext("bin", png) == "png"
    assert corrected_ext("png", png) is None
    assert corrected_ext("heic", png) is None  # a format the sniffer cannot judge: kept
    mp4 = sniff(b"\x00\x00\x00\x18ftypisom" + bytes(8))
    assert corrected_ext("m4a", mp4) is None and corrected_ext("mov", mp4) is None
    assert corrected_ext("jpeg", sniff(b"\xff\xd8\xff" + bytes(8))) is None
    assert corrected_ext("png", None) is None


def test_render_keeps_user_dirs(tmp_path):
    namer = Namer(str(tmp_path / "abs" / "{index}"), request_id="r", endpoint_id="e", cwd="/")
    assert namer.plan(ref()).path == Path(tmp_path / "abs" / "0")
