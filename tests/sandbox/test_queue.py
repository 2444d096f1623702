"""Queue contract (fal-api.md c.1-c.8) and the sync run host (d), over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from genmedia_sandbox.queue import app_path

FLUX = "fal-ai/flux/schnell"


def test_submit_status_result_lifecycle(fal, fal_sandbox):
    sub = fal.submit(FLUX, {"prompt": "a cat", "seed": 7})
    base = f"{fal_sandbox.urls['queue']}/fal-ai/flux/requests/{sub['request_id']}"
    assert sub["status"] == "IN_QUEUE" and sub["queue_position"] == 0
    assert sub["response_url"] == base
    assert sub["status_url"] == base + "/status"
    assert sub["cancel_url"] == base + "/cancel"
    status = fal.wait(sub["status_url"])
    assert status["status"] == "COMPLETED"
    assert status["metrics"]["inference_time"] >= 0
    assert [e["level"] for e in status["logs"]] == ["INFO"] * 3
    result = fal.client.get(sub["response_url"])
    assert result.status_code == 200
    assert result.headers["x-fal-request-id"] == sub["request_id"]
    assert result.headers["content-type"] == "application/json"
    body = result.json()
    assert body["seed"] == 7 and body["prompt"] == "a cat"
    assert body["images"][0]["width"] == 1024 and body["images"][0]["height"] == 768
    assert len(fal_sandbox.jobs) == 1
    assert fal_sandbox.completion_times[sub["request_id"]] <= time.time()


@pytest.mark.parametrize(
    ("flag", "has_logs"),
    [("1", True), ("true", True), ("0", False), ("false", False), (None, False)],
)
def test_status_logs_flag(fal, flag, has_logs):
    sub = fal.submit(FLUX, {"prompt": "x"})
    fal.wait(sub["status_url"])
    params = {} if flag is None else {"logs": flag}
    body = fal.client.get(sub["status_url"], params=params).json()
    assert "logs" in body
    assert (body["logs"] is not None) is has_logs


def test_trailing_slash_everywhere(fal):
    sub = fal.submit(FLUX + "/", {"prompt": "x"})
    assert fal.client.get(sub["status_url"] + "/").status_code in (200, 202)
    fal.wait(sub["status_url"])
    assert fal.client.get(sub["response_url"] + "/").status_code == 200
    assert fal.client.put(sub["cancel_url"] + "/").json() == {"status": "ALREADY_COMPLETED"}


def test_owner_app_rule():
    assert app_path("fal-ai/flux/dev") == "fal-ai/flux"
    assert app_path("fal-ai/kling-video/v2.5-turbo/pro/text-to-video") == "fal-ai/kling-video"
    assert app_path("workflows/alice/my-flow/run") == "workflows/alice/my-flow"
    assert app_path("comfy/bob/graph") == "comfy/bob/graph"


def test_status_with_full_endpoint_path_is_404(fal, fal_sandbox):
    sub = fal.submit(FLUX, {"prompt": "x"})
    wrong = f"{fal_sandbox.urls['queue']}/{FLUX}/requests/{sub['request_id']}/status"
    assert fal.client.get(wrong).status_code == 404
    missing = f"{fal_sandbox.urls['queue']}/fal-ai/flux/requests/nope/status"
    assert fal.client.get(missing).json() == {"detail": "Request not found"}


def test_202_while_queued_then_200_and_headers_accepted(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, queue_s=0.3, run_s=0.0)
    headers = {"X-Fal-Queue-Priority": "low", "X-Fal-Runner-Hint": "r1", "x-fal-no-retry": "1",
               "X-Fal-Request-Timeout": "30.0"}  # fmt: skip
    sub = fal.submit(FLUX, {"prompt": "x"}, headers=headers)
    first = fal.client.get(sub["status_url"])
    assert first.status_code == 202 and first.json()["status"] == "IN_QUEUE"
    assert first.json()["queue_position"] == 0
    assert fal.wait(sub["status_url"])["status"] == "COMPLETED"
    assert fal.client.get(sub["status_url"]).status_code == 200
    job = fal_sandbox.job(sub["request_id"])
    assert job.priority == "low" and job.runner_hint == "r1"


def test_result_before_completion_is_400(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, run_s=0.5)
    sub = fal.submit(FLUX, {"prompt": "x"})
    resp = fal.client.get(sub["response_url"])
    assert resp.status_code == 400 and resp.json() == {"detail": "Request is still in progress"}


def test_concurrency_limit_queue_position_counts_down(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, run_s=0.15, concurrency=1)
    subs = [fal.submit(FLUX, {"prompt": f"p{i}"}) for i in range(3)]
    positions = [fal.client.get(s["status_url"]).json() for s in subs]
    assert positions[0]["status"] == "IN_PROGRESS"
    assert [p.get("queue_position") for p in positions[1:]] == [0, 1]
    seen = set()
    while True:
        body = fal.client.get(subs[2]["status_url"]).json()
        if body["status"] != "IN_QUEUE":
            break
        seen.add(body["queue_position"])
        time.sleep(0.01)
    assert seen == {0, 1}
    running = [j for j in fal_sandbox.jobs if j.status == "IN_PROGRESS"]
    assert len(running) <= 1
    for s in subs:
        fal.wait(s["status_url"])
    starts = sorted(j.started_at for j in fal_sandbox.jobs)
    assert starts[1] - starts[0] >= 0.1 and starts[2] - starts[1] >= 0.1


def test_low_priority_waits_behind_normal(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, run_s=5, concurrency=1)  # still running while we look
    fal.submit(FLUX, {"prompt": "running"})
    low = fal.submit(FLUX, {"prompt": "low"}, headers={"X-Fal-Queue-Priority": "low"})
    normal = fal.submit(FLUX, {"prompt": "normal"})
    assert fal.client.get(low["status_url"]).json()["queue_position"] == 1
    assert fal.client.get(normal["status_url"]).json()["queue_position"] == 0


def test_in_progress_logs_during_run(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, run_s=6, log_lines=3)  # a line every ~2 s
    sub = fal.submit(FLUX, {"prompt": "x"})
    deadline = time.monotonic() + 1.5
    while True:  # poll for the first line instead of guessing a sleep
        body = fal.client.get(sub["status_url"], params={"logs": "1"}).json()
        if body["logs"] or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert body["status"] == "IN_PROGRESS"
    assert 1 <= len(body["logs"]) < 3
    assert body["logs"][0]["source"] == "USER" and body["logs"][0]["timestamp"].endswith("Z")


def test_status_stream_sse(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, queue_s=0.05, run_s=0.1)
    sub = fal.submit(FLUX, {"prompt": "x"})
    events = []
    with fal.client.stream("GET", sub["status_url"] + "/stream", params={"logs": "1"}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    statuses = [e["status"] for e in events]
    assert statuses[0] == "IN_QUEUE" and statuses[-1] == "COMPLETED"
    assert "IN_PROGRESS" in statuses


def test_status_stream_keepalive_comment(fal, fal_sandbox, monkeypatch):
    from genmedia_sandbox import queue_api

    monkeypatch.setattr(queue_api, "KEEPALIVE_S", 0.05)
    fal_sandbox.set_timing(FLUX, run_s=0.3, log_lines=1)
    sub = fal.submit(FLUX, {"prompt": "x"})
    with fal.client.stream("GET", sub["status_url"] + "/stream") as resp:
        lines = list(resp.iter_lines())
    assert ": keep-alive" in lines


def test_cancel_semantics(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, queue_s=5)
    sub = fal.submit(FLUX, {"prompt": "x"})
    resp = fal.client.put(sub["cancel_url"])
    assert resp.status_code == 202 and resp.json() == {"status": "CANCELLATION_REQUESTED"}
    status = fal.client.get(sub["status_url"]).json()
    assert status["status"] == "COMPLETED" and status["error_type"] == "client_cancelled"
    result = fal.client.get(sub["response_url"])
    assert result.status_code == 499 and result.json()["error_type"] == "client_cancelled"
    again = fal.client.put(sub["cancel_url"])
    assert again.status_code == 400 and again.json() == {"status": "ALREADY_COMPLETED"}
    unknown = fal.client.put(sub["cancel_url"].replace(sub["request_id"], "nope"))
    assert unknown.status_code == 404 and unknown.json() == {"status": "NOT_FOUND"}


def test_cancel_in_progress(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, run_s=2)
    sub = fal.submit(FLUX, {"prompt": "x"})
    time.sleep(0.05)
    assert fal.client.put(sub["cancel_url"]).status_code == 202
    assert fal.wait(sub["status_url"], timeout=1)["status"] == "COMPLETED"
    assert fal_sandbox.job(sub["request_id"]).cancelled


def test_request_timeout_gives_504_user(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, queue_s=5)
    sub = fal.submit(FLUX, {"prompt": "x"}, headers={"X-Fal-Request-Timeout": "0.1"})
    status = fal.wait(sub["status_url"], timeout=2)
    assert status["error_type"] == "request_timeout"
    result = fal.client.get(sub["response_url"])
    assert result.status_code == 504
    assert result.headers["x-fal-request-timeout-type"] == "user"
    assert result.json() == {"detail": "Request timed out", "error_type": "request_timeout"}


def test_invalid_input_is_422_at_result(fal):
    sub = fal.submit(FLUX, {"num_images": 20, "image_size": "huge"})
    status = fal.wait(sub["status_url"])
    assert status["status"] == "COMPLETED"
    assert any(e["level"] == "ERROR" for e in status["logs"])
    result = fal.client.get(sub["response_url"])
    assert result.status_code == 422
    assert result.headers["x-fal-request-id"] == sub["request_id"]
    detail = {tuple(d["loc"]): d for d in result.json()["detail"]}
    assert detail[("body", "prompt")]["type"] == "missing"
    assert detail[("body", "num_images")] | {"url": None} == {
        "loc": ["body", "num_images"], "msg": "Input should be less than or equal to 4",
        "type": "less_than_equal", "input": 20, "ctx": {"le": 4}, "url": None,
    }  # fmt: skip
    assert detail[("body", "image_size")]["input"] == "huge"


def test_invalid_json_body_is_422_at_submit(client, fal_sandbox):
    resp = client.post(
        f"{fal_sandbox.urls['queue']}/{FLUX}",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 422 and resp.json()["detail"][0]["type"] == "json_invalid"
    assert fal_sandbox.jobs == []


def test_unknown_endpoint_and_bad_app_id(client, fal_sandbox):
    assert client.post(f"{fal_sandbox.urls['queue']}/nobody/nothing", json={}).status_code == 404
    assert client.post(f"{fal_sandbox.urls['queue']}/justone", json={}).status_code == 400


def test_queue_requires_key(fal_sandbox):
    resp = httpx.post(f"{fal_sandbox.urls['queue']}/{FLUX}", json={"prompt": "x"})
    assert resp.status_code == 401 and "detail" in resp.json()
    entry = fal_sandbox.requests[-1]
    assert entry.has_authorization is False and entry.status_code == 401 and entry.role == "queue"


def test_request_log_never_stores_the_key(fal, fal_sandbox):
    fal.submit(FLUX, {"prompt": "x"}, params={"fal_webhook": "http://127.0.0.1:9/hook"})
    entry = fal_sandbox.requests[-1]
    assert (entry.method, entry.role, entry.path) == ("POST", "queue", "/" + FLUX)
    assert "fal_webhook=" in entry.query and entry.has_authorization
    assert "secret" not in repr(fal_sandbox.requests)


def test_webhook_posted_on_completion(fal, fal_sandbox):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_port}/hook"
        sub = fal.submit(FLUX, {"prompt": "x"}, params={"fal_webhook": url})
        assert sub["gateway_request_id"] == sub["request_id"]
        fal.wait(sub["status_url"])
        deadline = time.monotonic() + 3

        def delivered() -> bool:
            # the hook receives the POST before the emulator has read the hook's answer
            hooks = fal_sandbox.webhooks
            return bool(received and hooks and hooks[0]["status_code"] is not None)

        while not delivered() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        hook.shutdown()
    assert received[0]["request_id"] == sub["request_id"]
    assert received[0]["status"] == "OK" and received[0]["payload"]["images"]
    assert fal_sandbox.webhooks[0]["status_code"] == 200


def test_sync_run_host(client, fal_sandbox):
    resp = client.post(
        f"{fal_sandbox.urls['run']}/{FLUX}", json={"prompt": "sync", "num_images": 2}
    )
    assert resp.status_code == 200 and resp.headers["x-fal-request-id"]
    assert len(resp.json()["images"]) == 2
    bad = client.post(f"{fal_sandbox.urls['run']}/{FLUX}", json={})
    assert bad.status_code == 422
    stream = client.post(f"{fal_sandbox.urls['run']}/{FLUX}/stream", json={"prompt": "s"})
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert json.loads(stream.text.split("data: ", 1)[1])["prompt"] == "s"
