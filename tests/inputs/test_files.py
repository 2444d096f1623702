"""Local files given for URL inputs are uploaded and replaced by their URLs."""

from __future__ import annotations

import json
import os

import httpx

AURA = "fal-ai/aura-sr"
EDIT = "fal-ai/nano-banana/edit"


def uploaded_events(stderr: str) -> list[dict]:
    return [json.loads(x) for x in stderr.splitlines() if x.startswith('{"event": "uploaded"')]


def test_local_file_is_uploaded_and_announced(cli, fal_sandbox_env, chdir_tmp):
    data = os.urandom(4000)
    (chdir_tmp / "ref.png").write_bytes(data)
    result = cli("run", AURA, "--image_url", "./ref.png", "--events")
    assert result.exit_code == 0, result
    (job,) = fal_sandbox_env.jobs
    url = job.input["image_url"]
    assert url.startswith(fal_sandbox_env.urls["cdn"] + "/files/")
    assert httpx.get(url).content == data
    (event,) = uploaded_events(result.stderr)
    assert event == {
        "event": "uploaded",
        "field": "image_url",
        "path": "./ref.png",
        "url": url,
        "size_bytes": 4000,
    }


def test_arrays_of_files_upload_each_path_once(cli, fal_sandbox_env, chdir_tmp):
    (chdir_tmp / "a.png").write_bytes(b"a" * 10)
    remote = "https://example.com/b.png"
    result = cli(
        "run",
        EDIT,
        "--prompt",
        "a cat",
        "--image_urls",
        "a.png",
        "--image_urls",
        remote,
        "--image_urls",
        "./a.png",
        "--async",
        "--events",
    )
    assert result.exit_code == 0, result
    urls = fal_sandbox_env.jobs[0].input["image_urls"]
    assert (
        urls[1] == remote and urls[0] == urls[2] and urls[0].startswith(fal_sandbox_env.urls["cdn"])
    )
    assert len(uploaded_events(result.stderr)) == 1


def test_pretty_mode_announces_a_plain_line(cli, fal_sandbox_env, chdir_tmp, monkeypatch):
    monkeypatch.setenv("GENMEDIA_OUTPUT", "pretty")
    (chdir_tmp / "ref.png").write_bytes(b"x" * 10)
    result = cli("run", AURA, "--image_url", "ref.png", "--async")
    assert result.exit_code == 0, result
    assert "uploaded ref.png → http" in result.stderr
    assert not uploaded_events(result.stderr)


def test_no_upload_sends_the_text_and_dry_run_uploads_nothing(cli, fal_sandbox_env, chdir_tmp):
    (chdir_tmp / "ref.png").write_bytes(b"x" * 10)
    result = cli("run", AURA, "--image_url", "ref.png", "--dry-run")
    assert result.exit_code == 0, result
    assert result.json["input"]["image_url"] == "ref.png"
    result = cli("run", AURA, "--image_url", "ref.png", "--no-upload", "--async")
    assert result.exit_code == 0, result
    assert fal_sandbox_env.jobs[0].input["image_url"] == "ref.png"
    assert not [r for r in fal_sandbox_env.requests if r.role in ("rest", "cdn")]


def test_a_missing_file_is_a_validation_error(cli, fal_sandbox_env, chdir_tmp):
    result = cli("run", AURA, "--image_url", "nope.png")
    assert result.exit_code == 5, result
    (issue,) = result.error["details"]["validation_errors"]
    assert issue["field"] == "image_url" and issue["type"] == "file_not_found"
    assert not fal_sandbox_env.jobs
