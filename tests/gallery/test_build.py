"""``genmedia gallery build``/``open`` against real sandbox runs, and the hook it reads."""

from __future__ import annotations

import html
import json
import shlex
import sqlite3
import time
from pathlib import Path

from genmedia import hookimpl
from genmedia.plugins import make_plugin_manager
from genmedia.records import RunFile, RunRecord
from genmedia.testing import invoke
from tests.gallery.conftest import AUDIO, HOSTILE, IMAGE, VIDEO


def build(cli, *args):
    result = cli("gallery", "build", "--json", *args)
    assert result.exit_code == 0, result
    assert result.stderr == ""
    return result.json


def test_hook_genmedia_list_runs(tmp_path):
    """A third-party run store answers the hook; the gallery shows its runs (with no
    journal involved) and passes its filters through as a RunQuery."""
    media = tmp_path / "kept" / "cat one.png"
    media.parent.mkdir()
    media.write_bytes(b"\x89PNG\r\n\x1a\n")
    seen = []

    class Store:
        @hookimpl
        def genmedia_list_runs(self, query, ctx):
            seen.append(query)
            return [
                RunRecord(
                    provider="fal",
                    endpoint_id="acme/painter",
                    request_id="req-1",
                    status="completed",
                    submitted_at=time.time(),
                    prompt="a cat",
                    input={"prompt": "a cat"},
                    result={"images": [{"url": "https://cdn.example/cat.png"}], "seed": 7},
                    files=[
                        RunFile(
                            path=str(media),
                            url="https://cdn.example/cat.png",
                            json_path="images[0]",
                        )
                    ],
                )
            ]

    pm = make_plugin_manager(builtins=[("gallery", "genmedia_gallery.plugin")], autoload=False)
    pm.register(Store())
    out = tmp_path / "g"
    args = ["gallery", "build", "--out", str(out), "--endpoint", "acme", "--search", "cat"]
    result = invoke([*args, "--since", "2h", "--batch", "b-1", "--json"], pm=pm)
    assert result.exit_code == 0, result
    assert result.json["runs"] == 1 and result.json["local_files"] == 1
    (query,) = seen
    assert (query.endpoint, query.text, query.batch) == ("acme", "cat", "b-1")
    assert time.time() - 7300 < query.since < time.time()
    page = (out / "index.html").read_text()
    assert 'src="../kept/cat%20one.png"' in page  # relative: works from file://
    assert "genmedia run acme/painter --prompt &#x27;a cat&#x27; --seed 7" in page


def test_builds_from_the_journal_with_local_and_remote_media(three_runs, cli, home):
    doc = build(cli)
    out = home / "data" / "gallery"
    assert doc["path"] == str(out / "index.html") and doc["url"] == (out / "index.html").as_uri()
    assert doc["runs"] == 5 and doc["media"] == 5
    assert (doc["local_files"], doc["remote_files"]) == (4, 1)  # the hostile run was not downloaded
    assert doc["compare_groups"] == 1  # one prompt, two models
    page = (out / "index.html").read_text()
    for name in ("image", "video", "audio"):
        assert three_runs[name]["request_id"] in page
    assert "<video src=" in page and "<audio src=" in page and "<img src=" in page
    assert "remote · may expire" in page
    manifest = json.loads((out / "gallery.json").read_text())
    saved = {f["path"] for r in three_runs.values() for f in r.get("downloaded_files", [])}
    assert set(manifest["local_files"]) == {str(Path(p).resolve()) for p in saved}
    # self-contained: no stylesheet, script or font is fetched from anywhere
    assert "<link" not in page and "<script src" not in page and "@import" not in page
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.suffix == ".tmp"]


def test_everything_is_escaped(three_runs, cli, home):
    build(cli)
    page = (home / "data" / "gallery" / "index.html").read_text()
    assert HOSTILE not in page
    assert '<script>alert("x")' not in page and "<img src=x" not in page
    assert html.escape(HOSTILE, quote=True) in page
    assert page.count("<script") == 1  # the page's own script only
    assert "script-src 'sha256-" in html.unescape(page)  # Content-Security-Policy


def test_filters_go_to_the_journal(three_runs, cli, home, tmp_path):
    doc = build(cli, "--out", str(tmp_path / "v"), "--endpoint", VIDEO)
    assert doc["runs"] == 1
    doc = build(cli, "--out", str(tmp_path / "s"), "--search", "lighthouse")
    assert doc["runs"] == 2
    doc = build(cli, "--out", str(tmp_path / "n"), "--since", "2030-01-01")
    assert doc["runs"] == 0
    doc = build(cli, "--out", str(tmp_path / "b"), "--batch", "no-such-batch")
    assert doc["runs"] == 0
    doc = build(cli, "--out", str(tmp_path / "f"), "--status", "failed")
    assert doc["runs"] == 0


def test_the_card_command_reproduces_the_run(sandbox_run, cli, home):
    first = sandbox_run(
        AUDIO,
        "--prompt",
        "@mention a 'quoted' word",
        "--seconds_total",
        "5",
        "--guidance_scale",
        "1.5",
        "--sync_mode",
        "false",
    )
    build(cli)
    page = (home / "data" / "gallery" / "index.html").read_text()
    start = page.index("<code>genmedia ") + len("<code>")
    command = html.unescape(page[start : page.index("</code>", start)])
    argv = shlex.split(command)
    assert argv[:3] == ["genmedia", "run", AUDIO]
    again = cli(*argv[1:], "--json")
    assert again.exit_code == 0, again
    conn = sqlite3.connect(home / "data" / "history.db")
    inputs = [json.loads(r[0]) for r in conn.execute("SELECT input FROM jobs ORDER BY id")]
    conn.close()
    assert inputs[1] == {**inputs[0], "seed": first["result"]["seed"]}
    assert inputs[0]["prompt"] == "@mention a 'quoted' word"


def test_missing_download_falls_back_to_the_remote_url(sandbox_run, cli, home):
    run = sandbox_run(IMAGE, "--prompt", "moved away")
    Path(run["downloaded_files"][0]["path"]).unlink()
    doc = build(cli)
    assert (doc["local_files"], doc["remote_files"]) == (0, 1)
    page = (home / "data" / "gallery" / "index.html").read_text()
    assert html.escape(run["result"]["images"][0]["url"]) in page


def test_empty_journal_builds_an_empty_gallery(cli, home):
    doc = build(cli)
    assert doc["runs"] == 0
    assert "0 runs" in Path(doc["path"]).read_text()


def test_bad_since_is_a_usage_error(cli):
    result = cli("gallery", "build", "--since", "whenever", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.error["error"] == "Invalid --since: 'whenever'"


def test_unwritable_out_is_a_clean_error(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("gallery", "build", "--out", str(blocker / "sub"), "--json")
    assert result.exit_code == 1
    assert result.error["error"].startswith("Cannot write the gallery")
    assert "Traceback" not in result.stderr


def test_open_print_and_json_mode_print_the_path(three_runs, cli, home, tmp_path):
    out = tmp_path / "fresh"
    result = cli("gallery", "open", "--out", str(out), "--json")
    assert result.exit_code == 0, result
    index = out / "index.html"
    assert result.json == {
        "path": str(index),
        "url": index.as_uri(),
        "built": True,
        "opened": False,
    }
    again = cli("gallery", "open", "--out", str(out), "--print")
    assert again.exit_code == 0 and index.as_uri() in again.stdout
    assert '"built": false' in again.stdout  # not a TTY: JSON; nothing rebuilt


def wait_for(check, *, timeout: float = 50.0):
    """Poll until ``check()``; generous because the build runs at a lower priority, which
    on a saturated machine (CI runners, parallel test jobs) can mean many seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the background refresh")


def _write_config(home: Path, section: dict) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps({"plugins": {"gallery": section}}))


def test_auto_refresh_rebuilds_after_each_run(sandbox_run, home, tmp_path):
    out = tmp_path / "auto"
    _write_config(home, {"auto_refresh": True, "out": str(out)})
    first = sandbox_run(IMAGE, "--prompt", "first")
    manifest = out / "gallery.json"
    wait_for(lambda: manifest.is_file() and first["request_id"] in manifest.read_text())
    second = sandbox_run(VIDEO, "--prompt", "second")
    page = out / "index.html"
    # the build writes gallery.json, then index.html (each atomically): wait for both
    wait_for(lambda: second["request_id"] in manifest.read_text())
    wait_for(lambda: second["request_id"] in page.read_text())
    assert first["request_id"] in page.read_text()


def test_auto_refresh_is_off_by_default(sandbox_run, home, monkeypatch):
    import genmedia_gallery.refresh

    spawned = []
    monkeypatch.setattr(genmedia_gallery.refresh, "refresh_in_background", spawned.append)
    sandbox_run(IMAGE, "--prompt", "no gallery")
    assert spawned == []
    _write_config(home, {"auto_refresh": True})
    monkeypatch.setenv("GENMEDIA_NO_GALLERY", "1")
    sandbox_run(IMAGE, "--prompt", "still none")
    assert spawned == []
    monkeypatch.delenv("GENMEDIA_NO_GALLERY")
    sandbox_run(IMAGE, "--prompt", "now one")
    assert len(spawned) == 1


def test_costs_are_estimated_once_and_kept(three_runs, cli, home, fal_sandbox_env):
    doc = build(cli)
    assert doc["costs_known"] == 0 and "costs_unavailable" not in doc  # never asked
    doc = build(cli, "--costs")
    assert doc["costs_known"] == 5 and doc["costs_unavailable"] == 0
    out = home / "data" / "gallery"
    costs = json.loads((out / "costs.json").read_text())
    assert costs[three_runs["image"]["request_id"]] == "≈ 0.025 USD"  # the sandbox's price
    assert "≈ 0.025 USD" in (out / "index.html").read_text()
    # later builds show the kept estimates without asking again
    doc = build(cli)
    assert doc["costs_known"] == 5


def test_auto_refresh_coalesces_while_a_build_is_queued(sandbox_run, home, monkeypatch, tmp_path):
    import fcntl
    import os

    import genmedia_gallery.refresh as refresh

    out = tmp_path / "coalesced"
    out.mkdir()
    _write_config(home, {"auto_refresh": True, "out": str(out)})
    spawned = []

    def spawn(out_dir, queued):
        spawned.append(queued)
        os.close(queued)

    monkeypatch.setattr(refresh, "_spawn", spawn)
    fd = os.open(out / refresh.QUEUED, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a build is queued and has not read the journal yet
    try:
        sandbox_run(IMAGE, "--prompt", "folded into the queued build")
        assert spawned == []
    finally:
        os.close(fd)
    sandbox_run(IMAGE, "--prompt", "queues a build")
    assert len(spawned) == 1 and isinstance(spawned[0], int)


def test_failed_runs_show_their_error_and_filter_by_status(sandbox_run, cli, home, fal_sandbox_env):
    ok = sandbox_run(IMAGE, "--prompt", "fine")
    fal_sandbox_env.add_fault(
        role="queue", path=f"/{IMAGE}", kind="model_error", message="CUDA <oom> & more", count=1
    )
    failed = cli("run", IMAGE, "--prompt", "doomed", "--json")
    assert failed.exit_code == 7, failed
    doc = build(cli)
    assert doc["runs"] == 2
    page = (home / "data" / "gallery" / "index.html").read_text()
    assert 'data-status="failed"' in page
    assert "CUDA &lt;oom&gt; &amp; more" in page and "CUDA <oom>" not in page
    only_failed = build(cli, "--status", "failed", "--out", str(home / "failed"))
    assert only_failed["runs"] == 1
    assert ok["request_id"] not in (home / "failed" / "index.html").read_text()
