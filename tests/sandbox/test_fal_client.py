"""Proof that the emulator speaks fal's protocol: the official ``fal_client`` works against it.

fal_client insists on https and fixed hosts, so this serves TLS with a throwaway trustme
CA, points ``FAL_RUN_HOST``/``FAL_QUEUE_RUN_HOST`` at the emulator (with path prefixes;
the module reads them at import, so its URL constants are patched too), trusts the CA
through ``SSL_CERT_FILE`` and patches ``REST_URL``/``CDN_URL``.
"""

from __future__ import annotations

import ssl

import httpx
import pytest

from genmedia_sandbox.server import start_sandbox

fal_client = pytest.importorskip("fal_client")
trustme = pytest.importorskip("trustme")


@pytest.fixture(scope="module")
def tls_sandbox(tmp_path_factory):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    pem, ca_file = folder / "server.pem", folder / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(ca_file))
    server = start_sandbox(run_s=0.0, ssl_certfile=str(pem))
    try:
        yield server, ca_file
    finally:
        server.stop()


@pytest.fixture
def fal(tls_sandbox, monkeypatch):
    import fal_client.client as fc

    server, ca_file = tls_sandbox
    server.reset()
    server.set_timing(None, queue_s=0.0, run_s=0.0)
    host = server.base_url.removeprefix("https://")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("FAL_KEY", "sandbox-key-id:sandbox-secret")
    monkeypatch.setenv("FAL_RUN_HOST", f"{host}/run")
    monkeypatch.setenv("FAL_QUEUE_RUN_HOST", f"{host}/queue")
    monkeypatch.setattr(fc, "RUN_URL_FORMAT", f"https://{host}/run/")
    monkeypatch.setattr(fc, "QUEUE_URL_FORMAT", f"https://{host}/queue/")
    monkeypatch.setattr(fc, "REST_URL", server.urls["rest"])
    monkeypatch.setattr(fc, "CDN_URL", server.urls["cdn"])
    trust = ssl.create_default_context(cafile=str(ca_file))
    return fal_client.SyncClient(key="sandbox-key-id:sandbox-secret"), server, trust


def test_queue_round_trip(fal):
    client, server, ca_file = fal
    server.set_timing(None, queue_s=0.05, run_s=0.05)
    handle = client.submit(
        "fal-ai/flux/schnell", {"prompt": "a cat", "num_images": 2}, priority="low"
    )
    events = list(handle.iter_events(with_logs=True, interval=0.01))
    assert isinstance(events[-1], fal_client.Completed)
    assert any(isinstance(e, fal_client.InProgress) and e.logs for e in events)
    result = handle.get()
    assert len(result["images"]) == 2
    image = httpx.get(result["images"][0]["url"], verify=ca_file)
    assert image.headers["content-type"] == "image/jpeg" and image.content[:2] == b"\xff\xd8"
    assert (
        server.requests[0].path == "/fal-ai/flux/schnell" and server.requests[0].has_authorization
    )
    assert client.subscribe("fal-ai/flux/schnell", {"prompt": "again"})["prompt"] == "again"
    assert client.run("fal-ai/flux/schnell", {"prompt": "sync"})["prompt"] == "sync"


def test_cancel(fal):
    client, server, _ = fal
    server.set_timing(None, queue_s=5)
    handle = client.submit("fal-ai/flux/schnell", {"prompt": "slow"})
    assert isinstance(handle.status(), fal_client.Queued)
    handle.cancel()
    status = handle.status()
    assert isinstance(status, fal_client.Completed)
    assert server.job(handle.request_id).cancelled


def test_simple_upload(fal):
    client, server, ca_file = fal
    url = client.upload(b"hello sandbox", "text/plain", file_name="hello.txt")
    assert url.startswith(server.urls["cdn"] + "/files/")
    served = httpx.get(url, verify=ca_file)
    assert served.content == b"hello sandbox" and served.headers["content-type"].startswith(
        "text/plain"
    )


def test_multipart_upload(fal, monkeypatch, tmp_path):
    import fal_client.client as fc

    client, server, ca_file = fal
    monkeypatch.setattr(fc, "MULTIPART_THRESHOLD", 1000)
    monkeypatch.setattr(fc, "MULTIPART_CHUNK_SIZE", 400)
    data = bytes(range(256)) * 10
    url = client.upload(data, "application/octet-stream", file_name="big.bin")
    assert httpx.get(url, verify=ca_file).content == data
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"m" * 2100)
    url2 = client.upload_file(path)
    served = httpx.get(url2, verify=ca_file)
    assert served.content == b"m" * 2100 and served.headers["content-type"] == "video/mp4"
    parts = [r for r in server.requests if "/multipart/" in r.path and r.method == "PUT"]
    assert len(parts) == 7 + 6
