"""``genmedia webhook verify`` against the emulator's JWKS (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .conftest import sign

BODY = b'{"request_id": "req-1", "status": "OK", "payload": {"seed": 42}}'


def write(tmp_path: Path, headers: dict[str, str], body: bytes = BODY) -> tuple[str, str]:
    raw = "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    raw += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    (tmp_path / "headers.txt").write_text(raw)
    (tmp_path / "body.json").write_bytes(body)
    return str(tmp_path / "headers.txt"), str(tmp_path / "body.json")


def jwks_fetches(server: Any) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/.well-known/jwks.json"))


def verify(cli: Any, tmp_path: Path, headers: dict[str, str], body: bytes = BODY) -> Any:
    h, b = write(tmp_path, headers, body)
    return cli("webhook", "verify", "--headers", h, "--body", b, "--json")


def test_a_delivery_signed_by_the_emulator_is_valid(cli, tmp_path, emulator_key, fal_sandbox_env):
    done = verify(cli, tmp_path, sign(emulator_key, "req-1", BODY))
    assert done.exit_code == 0, done.stderr
    doc = done.json
    assert doc["valid"] is True and doc["request_id"] == "req-1" and doc["key_id"]
    assert done.stderr == ""


def test_header_values_as_options(cli, tmp_path, emulator_key, fal_sandbox_env):
    headers = sign(emulator_key, "req-2", BODY)
    (tmp_path / "body.json").write_bytes(BODY)
    args = ["webhook", "verify", "--body", str(tmp_path / "body.json"), "--json"]
    for name, flag in (("Request-Id", "--request-id"), ("User-Id", "--user-id"),
                       ("Timestamp", "--timestamp"), ("Signature", "--signature")):  # fmt: skip
        args += [flag, headers[f"X-Fal-Webhook-{name}"]]
    done = cli(*args)
    assert done.exit_code == 0 and done.json["request_id"] == "req-2"


def rejected(done: Any) -> str:
    assert done.exit_code == 5, (done.exit_code, done.stdout, done.stderr)
    assert done.stdout == ""
    error = json.loads(done.stderr)
    assert error["error"].startswith("Invalid webhook delivery")
    return str(error["details"]["reason"])


def test_a_tampered_body_is_rejected(cli, tmp_path, emulator_key, fal_sandbox_env):
    headers = sign(emulator_key, "req-1", BODY)
    tampered = BODY.replace(b"42", b"43")
    assert rejected(verify(cli, tmp_path, headers, tampered)) == "bad_signature"


def test_a_wrong_key_is_rejected_after_one_refetch(
    cli, tmp_path, emulator_key, other_key, fal_sandbox_env
):
    assert verify(cli, tmp_path, sign(emulator_key, "req-1", BODY)).exit_code == 0
    assert verify(cli, tmp_path, sign(emulator_key, "req-1", BODY)).exit_code == 0
    assert jwks_fetches(fal_sandbox_env) == 1  # the second check used the cached JWKS
    assert rejected(verify(cli, tmp_path, sign(other_key, "req-1", BODY))) == "bad_signature"
    assert jwks_fetches(fal_sandbox_env) == 2  # fetched again once, in case of rotation


def test_a_stale_timestamp_is_rejected(cli, tmp_path, emulator_key, fal_sandbox_env):
    old = int(time.time()) - 301
    headers = sign(emulator_key, "req-1", BODY, timestamp=old)
    assert rejected(verify(cli, tmp_path, headers)) == "stale_timestamp"
    future = sign(emulator_key, "req-1", BODY, timestamp=int(time.time()) + 400)
    assert rejected(verify(cli, tmp_path, future)) == "stale_timestamp"


def test_a_missing_header_is_rejected(cli, tmp_path, emulator_key, fal_sandbox_env):
    headers = sign(emulator_key, "req-1", BODY)
    del headers["X-Fal-Webhook-Signature"]
    done = verify(cli, tmp_path, headers)
    assert rejected(done) == "missing_header"
    assert "x-fal-webhook-signature" in json.loads(done.stderr)["error"]


def test_malformed_headers_and_unreachable_keys_fail_closed(
    cli, tmp_path, emulator_key, fal_sandbox_env
):
    headers = sign(emulator_key, "req-1", BODY)
    headers["X-Fal-Webhook-Signature"] = "zz" + headers["X-Fal-Webhook-Signature"][2:]
    assert rejected(verify(cli, tmp_path, headers)) == "malformed_header"
    h, b = write(tmp_path, sign(emulator_key, "req-1", BODY))
    dead = cli("webhook", "verify", "--headers", h, "--body", b, "--jwks-url",
               "http://127.0.0.1:9/jwks.json", "--json")  # fmt: skip
    assert rejected(dead) == "keys_unavailable"


def test_an_unreadable_body_is_a_usage_error(cli, tmp_path):
    done = cli("webhook", "verify", "--body", str(tmp_path / "nope"), "--json")
    assert done.exit_code == 2 and "Cannot read --body" in json.loads(done.stderr)["error"]


def test_the_emulator_retries_a_refused_delivery(cli, fal_sandbox_env, monkeypatch):
    """Like fal: a non-2xx answer is delivered again (here after 0.05 s, then 0.1 s)."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    monkeypatch.setenv("GENMEDIA_SANDBOX_WEBHOOK_RETRIES", "3")
    monkeypatch.setenv("GENMEDIA_SANDBOX_WEBHOOK_RETRY_DELAY", "0.05")
    answers = [500, 503, 200]
    seen: list[str] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            seen.append(self.headers["x-fal-webhook-signature"])
            self.send_response(answers[len(seen) - 1])
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_port}/hook"
        sub = cli("run", "fal-ai/flux/schnell", "--prompt", "x", "--async", "--webhook", url)
        assert sub.exit_code == 0, sub.stderr
        fal_sandbox = fal_sandbox_env
        deadline = time.monotonic() + 10
        while not fal_sandbox.webhooks or not fal_sandbox.webhooks[0].get("delivered"):
            assert time.monotonic() < deadline, fal_sandbox.webhooks
            time.sleep(0.02)
    finally:
        hook.shutdown()
    record = fal_sandbox.webhooks[0]
    assert record["attempts"] == 3 and record["status_code"] == 200 and len(seen) == 3
