"""Where real fal is strict, the emulator is too (each test fails on the lenient emulator)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from genmedia_sandbox import plugin
from genmedia_sandbox.responses import SANDBOX_KEY
from genmedia_sandbox.server import start_sandbox

FLUX = "fal-ai/flux/schnell"


def test_the_documented_key_is_one_constant():
    assert plugin.SANDBOX_KEY == SANDBOX_KEY


# ------------------------------------------------------------------------------- keys


@pytest.mark.parametrize("key", ["REALKEY:topsecret", "abc", "sandbo:x"])
def test_an_unknown_key_is_refused_like_fal(fal_sandbox, key):
    resp = httpx.post(f"{fal_sandbox.urls['queue']}/{FLUX}", json={"prompt": "x"},
                      headers={"Authorization": f"Key {key}"})  # fmt: skip
    assert resp.status_code == 401
    assert resp.json() == {"detail": "No user found for Key ID and Secret"}
    rest = httpx.post(f"{fal_sandbox.urls['rest']}/storage/auth/token", json={},
                      headers={"Authorization": f"Key {key}"})  # fmt: skip
    assert rest.status_code == 401


def test_sandbox_keys_and_registered_keys_are_accepted(fal_sandbox):
    url = f"{fal_sandbox.urls['queue']}/{FLUX}"
    for key in (SANDBOX_KEY, "sandbox-anything:else"):
        assert httpx.post(url, json={}, headers={"Authorization": f"Key {key}"}).status_code == 200
    mine = {"Authorization": "Key team-key:s3cret"}
    assert httpx.post(url, json={}, headers=mine).status_code == 401
    reg = httpx.post(fal_sandbox.base_url + "/_sandbox/keys", json={"key": "team-key:s3cret"})
    assert reg.status_code == 201
    assert httpx.post(url, json={}, headers=mine).status_code == 200


# ------------------------------------------------------------------------- CDN tokens


def _token(client, server) -> str:
    resp = client.post(f"{server.urls['rest']}/storage/auth/token",
                       params={"storage_type": "fal-cdn-v3"}, json={})  # fmt: skip
    assert resp.status_code == 200
    return resp.json()["token"]


def _upload(server, auth: str | None) -> httpx.Response:
    headers = {"Content-Type": "text/plain", "X-Fal-File-Name": "a.txt"}
    if auth is not None:
        headers["Authorization"] = auth
    return httpx.post(f"{server.urls['cdn']}/files/upload", content=b"hi", headers=headers)


def test_cdn_uploads_need_a_valid_token(client, fal_sandbox):
    token = _token(client, fal_sandbox)
    assert _upload(fal_sandbox, f"Bearer {token}").status_code == 200
    missing = _upload(fal_sandbox, None)
    assert missing.status_code == 401 and "detail" in missing.json()
    as_key = _upload(fal_sandbox, "Key sandbox-test:secret")  # the fal key is not a CDN token
    assert as_key.status_code == 401
    forged = _upload(fal_sandbox, "Bearer sandbox-cdn-0000")
    assert forged.status_code == 403 and forged.json() == {"detail": "Invalid CDN token"}


def test_cdn_tokens_expire():
    server = start_sandbox(token_ttl=0.0)
    try:
        with httpx.Client(headers={"Authorization": f"Key {SANDBOX_KEY}"}) as client:
            reply = client.post(f"{server.urls['rest']}/storage/auth/token", json={}).json()
        assert reply["expires_at"].endswith("+00:00")
        expired = _upload(server, f"Bearer {reply['token']}")
        assert expired.status_code == 401 and expired.json() == {"detail": "CDN token expired"}
    finally:
        server.stop()


# ------------------------------------------------------------------- run-host streaming


def test_stream_errors_are_json_with_their_status(client, fal_sandbox):
    resp = client.post(f"{fal_sandbox.urls['run']}/{FLUX}/stream", json={"num_images": 99},
                       headers={"Accept": "text/event-stream"})  # fmt: skip
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/json")
    assert {e["loc"][-1] for e in resp.json()["detail"]} >= {"prompt"}
    ok = client.post(f"{fal_sandbox.urls['run']}/{FLUX}/stream", json={"prompt": "x"})
    assert ok.status_code == 200 and ok.text.startswith("data: ")


def test_fal_client_stream_raises_on_an_error(fal_sandbox, monkeypatch):
    import fal_client

    monkeypatch.setenv("FAL_KEY", SANDBOX_KEY)
    monkeypatch.setenv("FAL_RUN_HOST", fal_sandbox.urls["run"].split("://", 1)[1])
    monkeypatch.setattr(fal_client.client, "RUN_URL_FORMAT", fal_sandbox.urls["run"] + "/")
    got: list = []
    with pytest.raises(Exception):  # noqa: B017 (fal-client 1.0.3 raises httpx-sse's SSEError)
        got.extend(fal_client.stream(FLUX, arguments={"num_images": 99}))
    assert got == []  # the 422 body is never yielded as if it were output


# --------------------------------------------------------------------- status logs window


def test_status_logs_are_a_moving_window(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, log_lines=6)
    sub = fal.submit(FLUX, {"prompt": "x"})
    final = fal.wait(sub["status_url"])
    messages = [entry["message"] for entry in final["logs"]]
    # fal returns the latest lines only: a client that de-duplicates by position
    # (``logs[len(seen):]``) misses lines, one that de-duplicates by content does not
    assert messages == ["step 3/5", "step 4/5", "step 5/5"]


# --------------------------------------------------------------- OpenAPI 3.0 validation


def test_nullable_fields_accept_null(fal):
    resp = fal.run("fal-ai/flux-lora-fast-training",
                   {"images_data_url": "https://example.com/a.zip", "trigger_word": None})  # fmt: skip
    assert resp.status_code == 200, resp.text


def test_non_nullable_fields_still_refuse_null(fal):
    resp = fal.run(FLUX, {"prompt": None})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["type"] == "string_type"


# ---------------------------------------------------------------------- result expiry


def test_results_expire(fal, fal_sandbox):
    sub = fal.submit(FLUX, {"prompt": "x"})
    assert fal.wait(sub["status_url"])["status"] == "COMPLETED"
    assert fal.client.get(sub["response_url"]).status_code == 200
    sandbox = fal_sandbox.sandbox
    kept = sandbox.result_ttl
    sandbox.result_ttl = 0.0
    try:
        gone = fal.client.get(sub["response_url"])
    finally:
        sandbox.result_ttl = kept
    assert gone.status_code == 404 and gone.json() == {"detail": "Request not found"}


def test_result_ttl_from_the_environment(monkeypatch):
    monkeypatch.setenv("GENMEDIA_SANDBOX_RESULT_TTL", "7")
    server = start_sandbox()
    try:
        assert server.sandbox.result_ttl == 7.0
    finally:
        server.stop()


# ------------------------------------------------------------------ queue length, cancel


def test_fal_max_queue_length_is_honoured(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, concurrency=0)  # nothing starts: every request waits
    limit = {"fal_max_queue_length": "2"}
    fal.submit(FLUX, {"prompt": "1"}, params=limit)
    fal.submit(FLUX, {"prompt": "2"}, params=limit)
    full = fal.client.post(f"{fal.urls['queue']}/{FLUX}", json={"prompt": "3"}, params=limit)
    assert full.status_code == 429 and "detail" in full.json()
    assert len(fal_sandbox.jobs) == 2
    unlimited = fal.client.post(f"{fal.urls['queue']}/{FLUX}", json={"prompt": "4"})
    assert unlimited.status_code == 200


def test_cancel_replies_carry_the_request_id(fal, fal_sandbox):
    fal_sandbox.set_timing(FLUX, concurrency=0)
    sub = fal.submit(FLUX, {"prompt": "x"})
    resp = fal.client.put(sub["cancel_url"])
    assert resp.status_code == 202
    assert resp.headers["x-fal-request-id"] == sub["request_id"]
    again = fal.client.put(sub["cancel_url"])
    assert again.status_code == 400 and again.headers["x-fal-request-id"] == sub["request_id"]


# ------------------------------------------------------------------- signed webhooks


def test_webhooks_are_signed_and_verify_with_the_served_jwks(fal, fal_sandbox):
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    received: list[tuple[dict, bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_port}/hook"
        sub = fal.submit(FLUX, {"prompt": "x"}, params={"fal_webhook": url})
        fal.wait(sub["status_url"])
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        hook.shutdown()
    headers, body = received[0]
    jwks = httpx.get(f"{fal_sandbox.urls['rest']}/.well-known/jwks.json").json()  # no auth
    (jwk,) = jwks["keys"]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    assert headers["x-fal-webhook-request-id"] == sub["request_id"]
    assert abs(int(headers["x-fal-webhook-timestamp"]) - time.time()) < 300
    message = "\n".join([
        headers["x-fal-webhook-request-id"], headers["x-fal-webhook-user-id"],
        headers["x-fal-webhook-timestamp"], hashlib.sha256(body).hexdigest(),
    ]).encode()  # fmt: skip
    public.verify(bytes.fromhex(headers["x-fal-webhook-signature"]), message)  # raises if bad
    assert json.loads(body)["request_id"] == sub["request_id"]
