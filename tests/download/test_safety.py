"""Hostile names, symlinks, escaping paths, and the key that must never reach a CDN."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from genmedia.context import AppContext

from .conftest import PNG, blob, jail, listing


@pytest.mark.parametrize(
    "hostile",
    [
        "../../x.png",
        "/etc/x.png",
        "..\\..\\x.png",
        "sub/../../x.png",
        "x\x00.png",
        ".\x1b[31mx.png",
        "..",
        "",
    ],
)
def test_hostile_file_names_stay_inside(hostile, fal_sandbox, put, result_for, finish, workdir):
    url = put(PNG, "x.png", "image/png")
    out = finish(result_for([{"url": url, "file_name": hostile}]), download="out/")
    assert out.exit_code == 0, out
    [saved] = out.saved
    path = Path(saved["path"])
    assert path.parent == workdir / "out"
    assert "\x00" not in path.name and "\x1b" not in path.name and not path.name.startswith(".")
    assert jail(workdir) == [f"a/b/proj/out/{path.name}"]  # nothing outside proj/out


def test_hostile_url_path_stays_inside(fal_sandbox, put, result_for, finish, workdir):
    url = put(PNG, "x.png", "image/png")
    hostile = url.rsplit("/", 1)[0] + "/..%2F..%2Fevil.png"  # the emulator serves by key
    out = finish(result_for([{"url": hostile}]), download="out/{name}.{ext}")
    assert out.exit_code == 0, out
    assert jail(workdir) == ["a/b/proj/out/evil.png"]


def test_hostile_request_id_in_template(fal_sandbox, put, result_for, finish, workdir):
    url = put(PNG, "x.png", "image/png")
    out = finish(
        result_for([{"url": url}], request_id="../../../escape/pwn"),
        download="out/{request_id}.{ext}",
    )
    assert out.exit_code == 0
    assert jail(workdir) == ["a/b/proj/out/pwn.png"]


def test_symlinked_subdirectory_escaping_is_refused(
    fal_sandbox, put, result_for, finish, workdir, tmp_path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (workdir / "out").mkdir()
    (workdir / "out" / "req").symlink_to(outside)
    url = put(PNG, "x.png", "image/png")
    out = finish(
        result_for([{"url": url}], request_id="req"), download="out/{request_id}/{name}.{ext}"
    )
    assert out.exit_code == 9
    assert "outside" in out.failures[0]["error"]
    assert list(outside.iterdir()) == []


def test_symlink_at_final_path_is_not_followed(
    fal_sandbox, put, result_for, finish, workdir, tmp_path
):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (workdir / "cat.png").symlink_to(victim)
    url = put(PNG, "cat.png", "image/png")
    out = finish(result_for([{"url": url}]), download="./")
    assert out.exit_code == 0
    assert out.saved[0]["path"] == str(workdir / "cat_1.png")
    assert victim.read_text() == "keep me" and (workdir / "cat.png").is_symlink()

    refused = finish(result_for([{"url": url}]), download="cat.png", overwrite=True)
    assert refused.exit_code == 9
    assert "symlink" in refused.failures[0]["error"]
    assert victim.read_text() == "keep me" and (workdir / "cat.png").is_symlink()
    assert not (workdir / "cat.png.part").exists()


def test_dangling_symlink_counts_as_taken(fal_sandbox, put, result_for, finish, workdir, tmp_path):
    (workdir / "cat.png").symlink_to(tmp_path / "does-not-exist")
    url = put(PNG, "cat.png", "image/png")
    out = finish(result_for([{"url": url}]), download="./")
    assert out.saved[0]["path"] == str(workdir / "cat_1.png")
    assert not (tmp_path / "does-not-exist").exists()


@pytest.mark.parametrize("kept_name", ["cat.png.part", "cat.png.0123456789ab.part"])
def test_symlink_planted_as_a_kept_partial_is_never_written_through(
    fal_sandbox, put, result_for, finish, workdir, tmp_path, kept_name
):
    """A symlink dressed up as a resumable partial of this very URL is dropped, not used."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    url = put(PNG, "cat.png", "image/png")
    (workdir / kept_name).symlink_to(victim)
    meta = {"url": url, "validator": '"x"', "total": len(PNG)}
    (workdir / f"{kept_name}.json").write_text(json.dumps(meta))
    out = finish(result_for([{"url": url}]), download="./", keep_partial=True)
    assert out.exit_code == 0, out
    assert Path(out.saved[0]["path"]).read_bytes() == PNG
    assert victim.read_text() == "keep me"
    assert listing(workdir) == ["cat.png"]  # the planted link and its .json are gone


def test_the_key_never_reaches_the_cdn(fal_sandbox, put, result_for, finish, workdir):
    """Even if something put a key on the shared client, downloads strip it."""
    url = put(PNG, "cat.png", "image/png")
    ctx = AppContext()
    ctx.http.headers["Authorization"] = "Key secret-should-not-leak"
    out = finish(result_for([{"url": url}]), ctx=ctx, download="out/")
    assert out.exit_code == 0
    gets = [r for r in fal_sandbox.requests if r.role == "cdn" and r.method == "GET"]
    assert gets and not any(r.has_authorization for r in gets)


def test_only_http_urls_are_fetched(tmp_path):
    from genmedia_download.fetch import DownloadFailed, fetch

    with httpx.Client() as client, pytest.raises(DownloadFailed, match="http"):
        fetch(client, "file:///etc/passwd", tmp_path / "x.part")
    assert os.listdir(tmp_path) == []


def test_redirect_to_another_scheme_fails_cleanly(tmp_path):
    from genmedia_download.fetch import DownloadFailed, fetch

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "ftp://example.invalid/x"})

    with httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=True) as client:
        with pytest.raises(DownloadFailed):
            fetch(client, "http://cdn.invalid/x.png", tmp_path / "x.png.part")
    assert os.listdir(tmp_path) == []


def test_blob_helper_has_no_magic():
    from genmedia_download.formats import sniff

    assert sniff(blob(64)) is None
