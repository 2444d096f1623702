"""A second sink beside ``download``: genmedia-example's manifest sink (a third-party plugin).

It runs in the same run after the download sink, sees the saved paths, and its failure
never loses the run's output: the result and request id are printed, the failure is
listed in ``sink_errors`` and the exit code is 1.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from genmedia.context import AppContext
from tests.core.sitepkgs import EXAMPLE_SRC, install_example

from .conftest import PNG, listing, sha


@pytest.fixture
def example_ctx(monkeypatch: pytest.MonkeyPatch) -> AppContext:
    """An AppContext with genmedia-example's sink module registered like an entry point."""
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    import genmedia_example.sink

    ctx = AppContext(stdout=io.StringIO(), stderr=io.StringIO())
    if ctx.pm.get_plugin("example-sink") is None:
        ctx.pm.register(genmedia_example.sink, name="example-sink")
    return ctx


def test_example_sink_sees_the_saved_files(
    fal_sandbox, put, result_for, finish, workdir, example_ctx
):
    url = put(PNG, "cat.png", "image/png")
    out = finish(
        result_for([{"url": url}]),
        ctx=example_ctx,
        download="out/",
        example_manifest="m/manifest.json",
    )
    assert out.exit_code == 0, out
    manifest = json.loads((workdir / "m" / "manifest.json").read_text())
    assert manifest["request_id"] == "019a-test-request"
    assert manifest["files"] == [
        {
            "path": str(workdir / "out" / "cat.png"),
            "size_bytes": len(PNG),
            "sha256": sha(PNG),
            "content_type": "image/png",
            "json_path": "images[0]",
        }
    ]
    assert out.doc["example_manifest"] == {"path": str(workdir / "m" / "manifest.json"), "files": 1}


def test_example_sink_failure_keeps_the_run(
    fal_sandbox, put, result_for, finish, workdir, example_ctx, monkeypatch
):
    monkeypatch.setenv("GENMEDIA_EXAMPLE_SINK_FAIL", "1")
    url = put(PNG, "cat.png", "image/png")
    out = finish(
        result_for([{"url": url}]), ctx=example_ctx, download="out/", example_manifest="m.json"
    )
    assert out.exit_code == 1
    assert (
        out.doc["request_id"] == "019a-test-request"
        and out.doc["result"]["images"][0]["url"] == url
    )
    assert [Path(f["path"]).name for f in out.doc["downloaded_files"]] == ["cat.png"]
    [error] = out.doc["sink_errors"]
    assert error["plugin"] == "example-sink" and "GENMEDIA_EXAMPLE_SINK_FAIL" in error["error"]
    assert listing(workdir) == ["out/cat.png"]


@pytest.mark.timeout(60)
def test_example_sink_failure_through_the_cli(fal_sandbox, tmp_path, workdir):
    """Installed as a real distribution (entry points), in a real process."""
    from genmedia_sandbox.pytest_plugin import sandbox_environment

    site = tmp_path / "site-packages"
    install_example(site)
    env = dict(os.environ)
    env.update(sandbox_environment(fal_sandbox, tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    env["GENMEDIA_EXAMPLE_SINK_FAIL"] = "1"
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "genmedia", "run", "fal-ai/flux/schnell", "--prompt", "a cat",
         "--download", "out/", "--example-manifest", "manifest.json"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=50,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["request_id"] and doc["downloaded_files"][0]["path"] == str(
        workdir / "out" / "images.jpg"
    )
    assert [e["plugin"] for e in doc["sink_errors"]] == ["example-sink"]
    assert listing(workdir) == ["out/images.jpg"]
