"""``genmedia webhook listen`` end to end: a real listener process, the emulator posting
signed deliveries to it over HTTP on 127.0.0.1, the journal read by other processes."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import sign

ENDPOINT = "fal-ai/flux/schnell"

pytestmark = pytest.mark.timeout(90)


class Listener:
    """``genmedia webhook listen`` as a subprocess; its NDJSON lines read in a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "genmedia", "webhook", "listen", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next()
        assert first["event"] == "listening", first
        self.url = str(first["url"])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def next(self, timeout: float = 30) -> dict[str, Any]:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"no line from the listener: {err}") from None

    def finish(self) -> tuple[int, str]:
        _out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator retries a refused delivery after 0.1 s (fal: minutes)."""
    monkeypatch.setenv("GENMEDIA_SANDBOX_WEBHOOK_RETRY_DELAY", "0.1")
    monkeypatch.setenv("GENMEDIA_SANDBOX_WEBHOOK_RETRIES", "5")


def history(cli: Any, rid: str) -> dict[str, Any]:
    shown = cli("history", "show", rid, "--json")
    assert shown.exit_code == 0, shown.stderr
    return shown.json  # type: ignore[no-any-return]


def test_a_job_submitted_with_a_webhook_is_finished_by_the_listener(
    fal_sandbox_env, cli, tmp_path, quick_retries, emulator_key, other_key
):
    out = tmp_path / "out"
    listener = Listener("--download", f"{out}/", "--no-backstop", "--max-deliveries", "3")
    try:
        sub = cli("run", ENDPOINT, "--prompt", "a hooked lighthouse", "--num_images", "2",
                  "--async", "--webhook", listener.url, "--json")  # fmt: skip
        assert sub.exit_code == 0, sub.stderr
        rid = sub.json["request_id"]
        line = listener.next()
        while line.get("outcome") == "unknown_job":  # delivered before the row was written:
            line = listener.next()  # answered 503 and delivered again by the emulator
        assert line["event"] == "delivery" and line["request_id"] == rid
        assert line["outcome"] == "completed" and line["http_status"] == 200
        saved = [Path(p) for p in line["files"]]
        assert len(saved) == 2 and all(p.is_file() and p.parent == out for p in saved)
        row = history(cli, rid)
        assert row["status"] == "completed" and row["completed_at"]
        assert sorted(f["path"] for f in row["files"]) == sorted(str(p.resolve()) for p in saved)
        # the listener prints its line before the emulator has read the answer: wait for
        # the emulator to record the delivery (a race of the test, not of genmedia)
        deadline = time.monotonic() + 10
        while not fal_sandbox_env.webhooks[-1]["delivered"] and time.monotonic() < deadline:
            time.sleep(0.02)
        hook = fal_sandbox_env.webhooks[-1]
        assert hook["delivered"] and hook["status_code"] == 200

        # a redelivery (fal retries when it missed our answer) changes nothing
        body = json.dumps(hook["payload"]).encode()
        before = {p: p.stat().st_mtime_ns for p in saved}
        again = httpx.post(listener.url, content=body, headers=sign(emulator_key, rid, body))
        assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
        assert listener.next()["outcome"] == "duplicate"
        assert {p: p.stat().st_mtime_ns for p in saved} == before
        assert sorted(out.iterdir()) == sorted(saved)
        assert history(cli, rid) == row

        # a forged delivery is refused before anything is looked up
        forged = httpx.post(listener.url, content=body, headers=sign(other_key, rid, body))
        assert forged.status_code == 401 and forged.json()["reason"] == "bad_signature"
        line = listener.next()
        assert (line["outcome"], line["reason"], line["http_status"]) == (
            "invalid", "bad_signature", 401)  # fmt: skip
        assert listener.next() == {"event": "stopped", "deliveries": 3}
    finally:
        code, err = listener.finish()
    assert code == 0 and err == ""


def test_a_dropped_delivery_is_finished_by_the_backstop(
    fal_sandbox_env, cli, tmp_path, monkeypatch
):
    monkeypatch.setenv("GENMEDIA_SANDBOX_WEBHOOK_RETRIES", "0")
    sub = cli("run", ENDPOINT, "--prompt", "a lost hook", "--async",
              "--webhook", "http://127.0.0.1:9/nobody-listens", "--json")  # fmt: skip
    assert sub.exit_code == 0, sub.stderr
    rid = sub.json["request_id"]
    deadline = time.monotonic() + 30
    while not (fal_sandbox_env.webhooks and fal_sandbox_env.webhooks[-1]["error"]):
        assert time.monotonic() < deadline, "the emulator never tried to deliver"
        time.sleep(0.05)
    assert fal_sandbox_env.webhooks[-1]["attempts"] == 1  # no retries: dropped
    assert history(cli, rid)["status"] == "pending"

    out = tmp_path / "out"
    listener = Listener("--download", f"{out}/", "--backstop-after", "0", "--max-deliveries", "1")
    try:
        line = listener.next()
        assert line["event"] == "backstop" and line["request_id"] == rid
        assert line["outcome"] == "completed" and len(line["files"]) == 1
        assert Path(line["files"][0]).is_file()
        assert listener.next()["event"] == "stopped"
    finally:
        code, err = listener.finish()
    assert code == 0 and err == ""
    assert history(cli, rid)["status"] == "completed"


def test_a_failed_job_is_recorded_failed(fal_sandbox_env, cli, tmp_path, quick_retries):
    fal_sandbox_env.add_faults("model_error:message=CUDA out of memory,path=/fal-ai/flux/*")
    listener = Listener("--no-backstop", "--max-deliveries", "1")
    try:
        sub = cli("run", ENDPOINT, "--prompt", "doomed", "--async", "--webhook", listener.url)
        assert sub.exit_code == 0, sub.stderr
        rid = sub.json["request_id"]
        line = listener.next()
        while line.get("outcome") == "unknown_job":
            line = listener.next()
        assert (line["request_id"], line["outcome"], line["http_status"]) == (rid, "failed", 200)
        assert "CUDA out of memory" in line["error"]
        assert fal_sandbox_env.webhooks[-1]["payload"]["status"] == "ERROR"
    finally:
        code, err = listener.finish()
    assert code == 0 and err == ""
    row = history(cli, rid)
    assert row["status"] == "failed" and "CUDA out of memory" in row["error"]
