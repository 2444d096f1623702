"""State that outlives the process: separate ``genmedia --sandbox`` processes share one store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

FLUX = "fal-ai/flux/schnell"
pytestmark = pytest.mark.timeout(120)


def gm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genmedia", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )  # fmt: skip


def ok(*args: str) -> dict:
    proc = gm(*args)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return json.loads(proc.stdout)


def test_the_seed_flow_across_separate_processes(tmp_path: Path) -> None:
    submitted = ok(
        "--sandbox", "run", FLUX, "--prompt", "an elegant black cat", "--async", "--json"
    )
    req = submitted["request_id"]
    assert submitted["hint"] == f"Check status: genmedia --sandbox status {FLUX} {req}"
    done = ok("--sandbox", "status", "last", "--wait", "--json")
    assert done["request_id"] == req and done["status"] == "completed"
    image = done["result"]["images"][0]["url"]
    # the output URL of a finished process is served by the next one
    fetched = ok("--sandbox", "upload", image, "--json")
    assert fetched["size_bytes"] > 0
    assert ok("--sandbox", "assets", "favorite", "--request_id", req, "--json")["is_favorited"]
    coll = ok("--sandbox", "assets", "collections", "create", "Cats", "--json")["collection"]
    ok("--sandbox", "assets", "collections", "add", coll["id"], "--request_id", req, "--json")
    char = ok("--sandbox", "assets", "characters", "create", "Whiskers",
              "--description", "An elegant black cat", "--reference_image", req,
              "--identifier", "whiskers", "--json")  # fmt: skip
    assert char
    browse = ok("--sandbox", "assets", "browse", "--json")
    assets = browse["assets"]
    assert [a["request_id"] for a in assets] == [req]
    assert assets[0]["is_favorited"] and coll["id"] in assets[0]["collection_ids"]
    listed = ok("--sandbox", "assets", "collections", "browse", coll["id"], "--json")
    assert [a["request_id"] for a in listed["assets"]] == [req]
    status = ok("sandbox", "status", "--json")
    assert status["jobs"] == {"COMPLETED": 1} and status["assets"] == 1
    assert status["collections"] == 1 and status["characters"] == 1
    assert status["home"] == os.environ["GENMEDIA_SANDBOX_HOME"]
    reset = ok("sandbox", "reset", "--json")
    assert reset["removed"]["jobs"] == {"COMPLETED": 1}
    assert ok("sandbox", "status", "--json")["jobs"] == {}
    gone = gm("--sandbox", "status", FLUX, req, "--json")
    assert gone.returncode == 4, gone.stderr


def test_a_job_left_running_advances_by_the_clock_and_resumes(tmp_path: Path) -> None:
    slow = {"GENMEDIA_SANDBOX_FAULTS": "run_time:seconds=2"}
    proc = gm("--sandbox", "run", FLUX, "--prompt", "slow", "--async", "--json", env=slow)
    assert proc.returncode == 0, proc.stderr
    req = json.loads(proc.stdout)["request_id"]
    pending = ok("--sandbox", "history", "list", "--status", "pending", "--json")["jobs"]
    assert [j["resume"] for j in pending] == [f"genmedia --sandbox status {req} --wait"]
    early = ok("--sandbox", "status", FLUX, req, "--json")  # another process, any state
    assert early["request_id"] == req
    done = ok("--sandbox", "status", FLUX, req, "--wait", "--json")
    assert done["status"] == "completed" and done["result"]["images"]


def test_an_upload_url_outlives_the_process(tmp_path: Path) -> None:
    src = tmp_path / "cat.png"
    src.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    url = ok("--sandbox", "upload", str(src), "--json")["url"]
    again = ok("--sandbox", "upload", url, "--json")  # fetched with a plain GET first
    assert again["size_bytes"] == src.stat().st_size


def test_serve_and_in_process_share_one_store(tmp_path: Path) -> None:
    env = {**os.environ}
    serve = subprocess.Popen(
        [sys.executable, "-m", "genmedia", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        doc = json.loads(serve.stdout.readline())
        exports = gm("sandbox", "env")
        assert exports.returncode == 0, exports.stderr
        lines = exports.stdout.splitlines()
        assert f"export GENMEDIA_FAL_QUEUE_URL={doc['urls']['queue']}" in lines
        assert "export FAL_KEY=sandbox-key:offline-rehearsal" in lines
        as_json = ok("sandbox", "env", "--json")
        assert as_json["env"]["GENMEDIA_FAL_CDN_URL"] == doc["urls"]["cdn"]
        # eval "$(genmedia sandbox env)" then plain genmedia commands
        shell = subprocess.run(
            ["bash", "-c", f'eval "$({sys.executable} -m genmedia sandbox env)" && '
             f"{sys.executable} -m genmedia run {FLUX} --prompt dog --async --json"],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert shell.returncode == 0, shell.stderr
        req = json.loads(shell.stdout)["request_id"]
        jobs = httpx.get(doc["base_url"] + "/_sandbox/jobs").json()["jobs"]
        assert [j["request_id"] for j in jobs] == [req]
        # the in-process emulator of another process sees the served job
        seen = ok("--sandbox", "status", FLUX, req, "--wait", "--json")
        assert seen["status"] == "completed"
        # reset empties the store and the running server
        assert ok("sandbox", "reset", "--json")["removed"]["jobs"] == {"COMPLETED": 1}
        assert httpx.get(doc["base_url"] + "/_sandbox/jobs").json()["jobs"] == []
        assert gm("--sandbox", "status", FLUX, req, "--json").returncode == 4
    finally:
        serve.terminate()
        serve.wait(10)
    assert gm("sandbox", "env").returncode == 10  # nothing serves any more: a config error


def test_serve_print_env(tmp_path: Path) -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "genmedia", "sandbox", "serve", "--print-env"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = [serve.stdout.readline().strip() for _ in range(7)]
    finally:
        serve.terminate()
        serve.wait(10)
    names = sorted(line.split("=", 1)[0] for line in lines)
    assert names == sorted(
        f"export {n}" for n in ("FAL_KEY", "GENMEDIA_FAL_QUEUE_URL", "GENMEDIA_FAL_RUN_URL",
                                "GENMEDIA_FAL_REST_URL", "GENMEDIA_FAL_API_URL",
                                "GENMEDIA_FAL_CDN_URL", "GENMEDIA_FAL_DOCS_URL")
    )  # fmt: skip


def test_async_run_exits_cleanly_every_time() -> None:
    # issue: the in-process emulator was torn down out of order, and asyncio printed
    # "Task exception was never retrieved ... cannot schedule new futures after shutdown"
    for i in range(8):
        proc = gm("--sandbox", "run", FLUX, "--prompt", f"x{i}", "--async", "--json")
        assert proc.returncode == 0, proc.stderr
        assert "Task exception" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert "cannot schedule" not in proc.stderr


def test_the_store_is_private(tmp_path: Path) -> None:
    ok("--sandbox", "run", FLUX, "--prompt", "x", "--json")
    home = Path(os.environ["GENMEDIA_SANDBOX_HOME"])
    assert home.stat().st_mode & 0o777 == 0o700
    for name in ("state.sqlite3", "state.sqlite3-wal"):
        path = home / name
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, name
