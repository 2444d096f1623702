"""Every fault knob, observed on the wire with raw httpx / sockets."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from genmedia_sandbox import faults as faultmod
from genmedia_sandbox.server import start_sandbox

FLUX = "fal-ai/flux/schnell"


def test_spec_parsing():
    parsed = faultmod.parse_spec(
        "429:retry_after=2,count=1,role=queue; latency:seconds=0.5,path=/fal-ai/*"
    )
    assert parsed[0].kind == "status" and parsed[0].params == {"code": 429, "retry_after": 2}
    assert parsed[0].count == 1 and parsed[0].role == "queue"
    assert parsed[1].kind == "latency" and parsed[1].path == "/fal-ai/*"
    with pytest.raises(faultmod.FaultSpecError):
        faultmod.parse_spec("explode")
    with pytest.raises(faultmod.FaultSpecError):
        faultmod.parse_spec("status:retry_after=1")


def test_429_once_then_success_with_count(fal, fal_sandbox):
    fal_sandbox.add_fault(role="queue", kind="status", code=429, retry_after=3, count=1)
    url = f"{fal_sandbox.urls['queue']}/{FLUX}"
    first = fal.client.post(url, json={"prompt": "x"})
    assert first.status_code == 429 and first.headers["retry-after"] == "3"
    assert fal_sandbox.jobs == []
    second = fal.client.post(url, json={"prompt": "x"})
    assert second.status_code == 200 and len(fal_sandbox.jobs) == 1
    assert fal_sandbox.requests[0].fault.startswith("status")


@pytest.mark.parametrize("code", [401, 403, 404, 422])
def test_client_error_statuses(fal, fal_sandbox, code):
    fal_sandbox.add_fault(role="queue", path="/fal-ai/*", kind="status", code=code, count=1)
    resp = fal.client.post(f"{fal_sandbox.urls['queue']}/{FLUX}", json={"prompt": "x"})
    assert resp.status_code == code
    assert resp.headers["content-type"] == "application/json"
    assert "detail" in resp.json()


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_5xx_with_and_without_request_id(fal, fal_sandbox, code):
    url = f"{fal_sandbox.urls['queue']}/{FLUX}"
    app = fal.client.post(url, json={"prompt": "x"}, headers={"X-Sandbox-Fault": str(code)})
    assert app.status_code == code and app.headers["x-fal-request-id"]
    assert app.json()["error_type"] == app.headers["x-fal-error-type"]
    ingress = fal.client.post(
        url, json={"prompt": "x"}, headers={"X-Sandbox-Fault": f"{code}:request_id=false"}
    )
    assert ingress.status_code == code and "x-fal-request-id" not in ingress.headers
    assert "nginx" in ingress.text and ingress.headers["content-type"] == "text/html"


def test_platform_fault_uses_error_envelope(client, fal_sandbox):
    fal_sandbox.add_fault(role="api", kind="status", code=429, count=1)
    resp = client.get(f"{fal_sandbox.urls['api']}/models")
    assert resp.status_code == 429 and resp.json()["error"]["type"] == "rate_limited"


def test_latency(fal, fal_sandbox):
    fal_sandbox.add_fault(role="queue", kind="latency", seconds=0.25, count=1)
    start = time.monotonic()
    fal.submit(FLUX, {"prompt": "x"})
    assert time.monotonic() - start >= 0.25


def test_queue_time_fault(fal, fal_sandbox):
    sub = fal.submit(FLUX, {"prompt": "x"}, headers={"X-Sandbox-Fault": "queue_time:seconds=0.3"})
    assert fal.client.get(sub["status_url"]).json()["status"] == "IN_QUEUE"
    time.sleep(0.35)
    assert fal.wait(sub["status_url"])["status"] == "COMPLETED"


def test_model_error_with_logs(fal, fal_sandbox):
    fal_sandbox.add_fault(role="queue", kind="model_error", message="CUDA out of memory", count=1)
    sub = fal.submit(FLUX, {"prompt": "x"})
    status = fal.wait(sub["status_url"])
    assert status["status"] == "COMPLETED"
    assert status["error"] == "CUDA out of memory" and status["error_type"] == "runner_server_error"
    assert any(log["level"] == "ERROR" for log in status["logs"])
    result = fal.client.get(sub["response_url"])
    assert result.status_code == 500
    assert result.json() == {"detail": "CUDA out of memory", "error_type": "runner_server_error"}
    assert result.headers["x-fal-error-type"] == "runner_server_error"


def _raw_request(
    base: str, path: str, body: bytes = b"", method: str = "POST", extra: str = ""
) -> bytes:
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        head = (
            f"{method} {parts.path}{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Key sandbox-k\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        )
        sock.sendall(head.encode() + body)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            data += b"<RST>"
        return data


def test_reset_after_headers(fal_sandbox):
    fal_sandbox.add_fault(role="cdn", kind="reset", count=1)
    url = fal_sandbox.make_file(200_000, "image/png", "x.png")
    data = _raw_request(url.rsplit("/cdn", 1)[0], "/cdn" + url.split("/cdn", 1)[1], method="GET")
    assert data.startswith(b"HTTP/1.1 200") and b"content-length: 200000" in data.lower()
    assert data.endswith(b"<RST>")
    with pytest.raises(httpx.TransportError):
        fal_sandbox.add_fault(role="cdn", kind="reset", count=1)
        httpx.get(url)


def test_short_body(fal_sandbox):
    url = fal_sandbox.make_file(100_000, "image/png", "x.png")
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|without sending complete"):
        httpx.get(url, headers={"X-Sandbox-Fault": "short_body"})


def test_slow_body(fal_sandbox):
    url = fal_sandbox.make_file(2000, "application/octet-stream", "x.bin")
    start = time.monotonic()
    resp = httpx.get(url, headers={"X-Sandbox-Fault": "slow_body:bytes_per_s=8000"})
    assert resp.status_code == 200 and len(resp.content) == 2000
    assert time.monotonic() - start >= 0.2


def test_malformed_json(client, fal_sandbox):
    resp = client.post(f"{fal_sandbox.urls['queue']}/{FLUX}", json={"prompt": "x"},
                       headers={"X-Sandbox-Fault": "malformed_json"})  # fmt: skip
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        resp.json()


def test_reset_after_submit_body_creates_exactly_one_job(fal_sandbox):
    fal_sandbox.add_fault(role="queue", method="POST", kind="reset_after_body", count=1)
    data = _raw_request(fal_sandbox.base_url, f"/queue/{FLUX}", b'{"prompt": "x"}')
    assert data in (b"", b"<RST>")
    assert len(fal_sandbox.jobs) == 1


def test_hostile_file_names(fal, fal_sandbox):
    fal_sandbox.add_fault(role="queue", kind="hostile_names", count=1)
    sub = fal.submit(FLUX, {"prompt": "x", "output_format": "png"})
    fal.wait(sub["status_url"])
    image = fal.client.get(sub["response_url"]).json()["images"][0]
    assert image["file_name"] == "../../x.png"
    assert "..%2F..%2Fx.png" in image["url"]
    served = httpx.get(image["url"])
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")


def test_large_output(fal, fal_sandbox):
    sub = fal.submit(FLUX, {"prompt": "x"}, headers={"X-Sandbox-Fault": "large_output:mib=3"})
    fal.wait(sub["status_url"])
    url = fal.client.get(sub["response_url"]).json()["images"][0]["url"]
    head = httpx.head(url)
    assert int(head.headers["content-length"]) == 3 * 1024 * 1024
    with httpx.stream("GET", url) as resp:
        total = sum(len(c) for c in resp.iter_bytes())
    assert total == 3 * 1024 * 1024


def test_control_route_and_bad_header(client, fal_sandbox):
    added = client.post(
        f"{fal_sandbox.base_url}/_sandbox/faults", json={"spec": "503:count=1,role=queue"}
    )
    assert added.status_code == 201 and added.json()["faults"][0]["params"] == {"code": 503}
    assert (
        client.post(f"{fal_sandbox.urls['queue']}/{FLUX}", json={"prompt": "x"}).status_code == 503
    )
    assert (
        client.post(f"{fal_sandbox.urls['queue']}/{FLUX}", json={"prompt": "x"}).status_code == 200
    )
    obj = client.post(
        f"{fal_sandbox.base_url}/_sandbox/faults",
        json={"kind": "status", "code": 418, "role": "rest"},
    )
    assert obj.status_code == 201 and len(fal_sandbox.faults) == 2
    assert client.delete(f"{fal_sandbox.base_url}/_sandbox/faults").json() == {"faults": []}
    bad = client.post(
        f"{fal_sandbox.urls['queue']}/{FLUX}", json={}, headers={"X-Sandbox-Fault": "nonsense"}
    )
    assert bad.status_code == 400


def test_faults_from_start_option_env_syntax():
    server = start_sandbox(run_s=0, faults="401:role=queue,count=1")
    try:
        url = f"{server.urls['queue']}/{FLUX}"
        assert (
            httpx.post(
                url, json={"prompt": "x"}, headers={"Authorization": "Key sandbox-k"}
            ).status_code
            == 401
        )
        assert (
            httpx.post(
                url, json={"prompt": "x"}, headers={"Authorization": "Key sandbox-k"}
            ).status_code
            == 200
        )
    finally:
        server.stop()
