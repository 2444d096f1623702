"""Proof of extensibility: a third-party plugin package, installed the way pip lays it out,
adds a provider and an output sink, and `genmedia run` goes through both end to end."""

from __future__ import annotations

import json
import os

import pytest

from tests.core.sitepkgs import install_example


@pytest.fixture
def example_site(tmp_path):
    site = tmp_path / "site-packages"
    site.mkdir()
    install_example(site)
    return site


@pytest.mark.timeout(60)
def test_run_through_third_party_provider_and_sink(
    example_site, fal_sandbox, run_genmedia, tmp_path
):
    media_url = fal_sandbox.make_file(4096, content_type="image/png", name="ref.png")
    out = tmp_path / "out"
    manifest = tmp_path / "manifest.json"
    env = {"PYTHONPATH": os.pathsep.join([str(example_site), os.environ.get("PYTHONPATH", "")])}
    result = run_genmedia(
        "run",
        "example/echo",
        "--prompt",
        "hello",
        "--repeat",
        "2",
        "--image_url",
        media_url,
        "--download",
        f"{out}/",
        "--example-manifest",
        str(manifest),
        "--json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["endpoint_id"] == "example/echo"
    assert doc["result"]["echo"] == {"prompt": "hello", "repeat": 2, "image_url": media_url}
    # the built-in download sink saved the provider's media ...
    [saved] = doc["downloaded_files"]
    assert saved["json_path"] == "image"
    assert os.path.getsize(saved["path"]) == 4096
    # ... and the third-party sink saw it, after the download sink
    written = json.loads(manifest.read_text())
    assert written["request_id"] == doc["request_id"]
    assert [f["path"] for f in written["files"]] == [saved["path"]]
    assert doc["example_manifest"] == {"path": str(manifest), "files": 1}


@pytest.mark.timeout(60)
def test_failing_third_party_sink_does_not_lose_the_run(example_site, run_genmedia, tmp_path):
    env = {
        "PYTHONPATH": os.pathsep.join([str(example_site), os.environ.get("PYTHONPATH", "")]),
        "GENMEDIA_EXAMPLE_SINK_FAIL": "1",
    }
    result = run_genmedia(
        "run",
        "example/echo",
        "--prompt",
        "hi",
        "--example-manifest",
        str(tmp_path / "m.json"),
        "--json",
        env=env,
    )
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["request_id"]
    assert doc["result"]["echo"] == {"prompt": "hi"}
    assert "example sink failure requested" in doc["sink_errors"][0]["error"]
    assert not (tmp_path / "m.json").exists()


def test_third_party_plugin_listed_in_subprocess(example_site, run_genmedia):
    env = {"PYTHONPATH": str(example_site)}
    result = run_genmedia("plugins", "--json", env=env)
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["example"]["distribution"] == "genmedia-example"
    assert rows["example-sink"]["hooks"] == ["genmedia_add_options", "genmedia_handle_result"]
    models = json.loads(run_genmedia("models", "--provider", "example", env=env).stdout)
    assert models["models"][0]["endpoint_id"] == "example/echo"
