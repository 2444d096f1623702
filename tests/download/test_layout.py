"""Where files land: directories, templates, collisions, overwrite, sniffing, sidecars, order."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from genmedia.context import AppContext

from .conftest import JPEG, PNG, blob, listing, sha


def test_bare_download_uses_the_current_directory(fal_sandbox, put, result_for, finish, workdir):
    url = put(blob(100), "cat.png", "image/png")
    out = finish(result_for([{"url": url, "file_name": "cat.png"}]), download=".")
    assert out.exit_code == 0
    assert out.saved[0]["path"] == str(workdir / "cat.png")
    assert listing(workdir) == ["cat.png"]


def test_existing_directory_without_slash_keeps_source_names(
    fal_sandbox, put, result_for, finish, workdir
):
    (workdir / "shots").mkdir()
    urls = [put(blob(10, i), f"img{i}.png", "image/png") for i in range(2)]
    out = finish(result_for([{"url": u} for u in urls]), download="shots")
    assert out.exit_code == 0
    assert listing(workdir) == ["shots/img0.png", "shots/img1.png"]


def test_trailing_slash_creates_the_directory(fal_sandbox, put, result_for, finish, workdir):
    url = put(blob(10), "img.png", "image/png")
    out = finish(result_for([{"url": url}]), download="new/deeper/")
    assert out.exit_code == 0
    assert listing(workdir) == ["new/deeper/img.png"]


def test_missing_name_without_slash_is_a_file_path(fal_sandbox, put, result_for, finish, workdir):
    urls = [put(blob(10, i), f"img{i}.png", "image/png") for i in range(3)]
    out = finish(result_for([{"url": u} for u in urls]), download="shots")
    assert out.exit_code == 0
    # "shots" does not exist and has no slash: it is the file name; extras get suffixes
    assert listing(workdir) == ["shots", "shots_1", "shots_2"]


def test_plain_file_name_with_several_outputs_gets_suffixes(
    fal_sandbox, put, result_for, finish, workdir
):
    urls = [put(blob(10, i), f"img{i}.png", "image/png") for i in range(3)]
    out = finish(result_for([{"url": u} for u in urls]), download="out/cat.png")
    assert [Path(s["path"]).name for s in out.saved] == ["cat.png", "cat_1.png", "cat_2.png"]
    assert listing(workdir) == ["out/cat.png", "out/cat_1.png", "out/cat_2.png"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("out/{index}.{ext}", ["out/0.png", "out/1.jpg"]),
        ("out/{name}.{ext}", ["out/first.png", "out/second.jpg"]),
        (
            "out/{request_id}/{index}-{name}.{ext}",
            ["out/req-42/0-first.png", "out/req-42/1-second.jpg"],
        ),
        ("{request_id}_{index}", ["req-42_0", "req-42_1"]),
        (
            "out/{endpoint}-{seed}-{index}.{ext}",
            ["out/fal-ai_flux_schnell-7-0.png", "out/fal-ai_flux_schnell-7-1.jpg"],
        ),
        ("out/{name}.png", ["out/first.png", "out/second.png"]),
        ("out/{{lit}}{index}.{ext}", ["out/{lit}0.png", "out/{lit}1.jpg"]),
    ],
)
def test_placeholders(template, expected, fal_sandbox, put, result_for, finish, workdir):
    media = [
        {"url": put(PNG, "first.png", "image/png"), "file_name": "first.png"},
        {"url": put(JPEG, "second.jpg", "image/jpeg"), "file_name": "second.jpg"},
    ]
    out = finish(result_for(media, request_id="req-42", seed=7), download=template)
    assert out.exit_code == 0, out
    assert listing(workdir) == sorted(expected)
    assert [s["path"] for s in out.saved] == [str(workdir / e) for e in expected]


def test_existing_files_are_never_overwritten(fal_sandbox, put, result_for, finish, workdir):
    (workdir / "cat.png").write_bytes(b"precious")
    (workdir / "cat_1.png").write_bytes(b"also precious")
    url = put(PNG, "cat.png", "image/png")
    out = finish(result_for([{"url": url}]), download="./")
    assert out.exit_code == 0
    assert out.saved[0]["path"] == str(workdir / "cat_2.png")
    assert (workdir / "cat.png").read_bytes() == b"precious"
    assert (workdir / "cat_1.png").read_bytes() == b"also precious"
    assert (workdir / "cat_2.png").read_bytes() == PNG


def test_overwrite_replaces(fal_sandbox, put, result_for, finish, workdir):
    (workdir / "cat.png").write_bytes(b"old")
    url = put(PNG, "cat.png", "image/png")
    out = finish(result_for([{"url": url}]), download="./", overwrite=True)
    assert out.exit_code == 0
    assert listing(workdir) == ["cat.png"] and (workdir / "cat.png").read_bytes() == PNG


def test_same_source_name_twice_in_one_run(fal_sandbox, put, result_for, finish, workdir):
    media = [
        {"url": put(blob(10, i), "out.png", "image/png"), "file_name": "out.png"} for i in range(2)
    ]
    out = finish(result_for(media), download="./", overwrite=True)  # even with --overwrite
    assert listing(workdir) == ["out.png", "out_1.png"]
    assert [s["json_path"] for s in out.saved] == ["images[0]", "images[1]"]


def test_magic_bytes_fix_the_extension(fal_sandbox, put, result_for, finish, workdir):
    url = put(PNG, "pic.jpg", "image/jpeg")  # the name and type say JPEG, the bytes say PNG
    out = finish(result_for([{"url": url, "file_name": "pic.jpg", "content_type": "image/jpeg"}]),
                 download="out/")  # fmt: skip
    assert out.exit_code == 0
    assert listing(workdir) == ["out/pic.png"]
    assert out.saved[0]["content_type"] == "image/png" and out.saved[0]["sha256"] == sha(PNG)


def test_magic_bytes_add_a_missing_extension(fal_sandbox, put, result_for, finish, workdir):
    url = put(JPEG, "render", "application/octet-stream")
    out = finish(result_for([{"url": url}]), download="out/{index}.{ext}")
    assert listing(workdir) == ["out/0.jpg"] and out.exit_code == 0


def test_a_typed_extension_is_kept(fal_sandbox, put, result_for, finish, workdir):
    url = put(PNG, "pic.jpg", "image/jpeg")
    finish(result_for([{"url": url}]), download="out/mine.jpg")
    assert listing(workdir) == ["out/mine.jpg"]  # the user chose the name


def test_sidecar_records_provenance(fal_sandbox, put, result_for, finish, workdir):
    url = put(PNG, "cat.png", "image/png")
    out = finish(
        result_for([{"url": url}], request_id="req-9", seed=1234), download="out/", sidecar=True
    )
    assert out.exit_code == 0
    assert listing(workdir) == ["out/cat.png", "out/cat.png.json"]
    side = json.loads((workdir / "out" / "cat.png.json").read_text())
    assert side["endpoint_id"] == "fal-ai/flux/schnell" and side["request_id"] == "req-9"
    assert side["source_url"] == url and side["json_path"] == "images[0]"
    assert side["seed"] == 1234 and side["input"]["prompt"] == "a cat"
    assert side["sha256"] == sha(PNG) and side["size_bytes"] == len(PNG)


def test_sidecar_name_counts_as_taken(fal_sandbox, put, result_for, finish, workdir):
    (workdir / "cat.png.json").write_text("{}")
    url = put(PNG, "cat.png", "image/png")
    finish(result_for([{"url": url}]), download="./", sidecar=True)
    assert listing(workdir) == ["cat.png.json", "cat_1.png", "cat_1.png.json"]
    assert (workdir / "cat.png.json").read_text() == "{}"


def test_files_are_listed_in_walk_order(fal_sandbox, put, result_for, finish, workdir):
    media = [{"url": put(blob(10, i), f"{i}.bin")} for i in range(12)]
    out = finish(result_for(media), download="out/", download_concurrency=8)
    paths = [s["json_path"] for s in out.saved]
    assert paths == [f"images[{i}]" for i in range(12)]  # images[2] before images[10]


def test_nested_media_and_no_media(fal_sandbox, put, result_for, finish, workdir):
    media = {"video": {"url": put(blob(10), "v.mp4", "video/mp4")},
             "frames": [{"image": {"url": put(blob(10, 1), "f.png", "image/png")}}]}  # fmt: skip
    out = finish(result_for(media), download="out/{index}-{name}.{ext}")
    assert [(s["json_path"], Path(s["path"]).name) for s in out.saved] == [
        ("video", "0-v.mp4"),
        ("frames[0].image", "1-f.png"),
    ]
    empty = finish(result_for({"text": "no files"}), download="out2/")
    assert empty.doc["downloaded_files"] == [] and empty.exit_code == 0
    assert not (workdir / "out2").exists()


def test_downloads_run_in_parallel(fal_sandbox, put, result_for, finish, workdir):
    media = [{"url": put(blob(1000, i), f"{i}.bin")} for i in range(8)]
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="latency", seconds=0.25)
    start = time.monotonic()
    out = finish(result_for(media), download="out/")  # default concurrency 4: two waves
    took = time.monotonic() - start
    assert out.exit_code == 0 and len(out.saved) == 8
    assert took < 1.5, took  # one at a time would take 2 s

    start = time.monotonic()
    finish(result_for(media), download="one/", download_concurrency=1)
    assert time.monotonic() - start >= 2.0


def test_without_download_the_sink_does_nothing(fal_sandbox, put, result_for, finish, workdir):
    app = AppContext(stdout=io.StringIO(), stderr=io.StringIO(), json_flag=True)
    out = finish(result_for([{"url": put(PNG, "cat.png")}]), app, download=None, sidecar=True)
    assert "downloaded_files" not in out.doc and listing(workdir) == []
    assert out.stderr == ""  # JSON mode: the warning is collected for the document
    assert app.warnings == ["--sidecar only applies together with --download; ignored"]
