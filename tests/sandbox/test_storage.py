"""Storage flows (fal-api.md e.1/e.2) and CDN file serving (Range, ETag, If-Range)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx


def _token(client, server):
    resp = client.post(
        f"{server.urls['rest']}/storage/auth/token", params={"storage_type": "fal-cdn-v3"}, json={}
    )
    assert resp.status_code == 200
    return resp.json()


def test_cdn_token(client, fal_sandbox):
    token = _token(client, fal_sandbox)
    assert token["token_type"] == "Bearer" and token["base_url"] == fal_sandbox.urls["cdn"]
    assert token["expires_at"].endswith("+00:00")
    assert datetime.fromisoformat(token["expires_at"]).tzinfo is not None
    assert httpx.post(f"{fal_sandbox.urls['rest']}/storage/auth/token", json={}).status_code == 401


def test_python_client_simple_upload(client, fal_sandbox):
    token = _token(client, fal_sandbox)
    auth = {"Authorization": f"{token['token_type']} {token['token']}"}
    resp = httpx.post(
        f"{fal_sandbox.urls['cdn']}/files/upload",
        content=b"hello world",
        headers={**auth, "Content-Type": "text/plain", "X-Fal-File-Name": "hello.txt"},
    )
    url = resp.json()["access_url"]
    assert url.endswith("/hello.txt")
    served = httpx.get(url)
    assert served.content == b"hello world" and served.headers["content-type"].startswith(
        "text/plain"
    )
    assert httpx.post(f"{fal_sandbox.urls['cdn']}/files/upload", content=b"x").status_code == 401


def test_python_client_multipart_upload(client, fal_sandbox):
    token = _token(client, fal_sandbox)
    auth = {"Authorization": f"Bearer {token['token']}"}
    created = httpx.post(
        f"{token['base_url']}/files/upload/multipart",
        headers={**auth, "Content-Type": "video/mp4", "X-Fal-File-Name": "big.mp4"},
    ).json()
    parts = []
    chunks = [b"a" * 1000, b"b" * 1000, b"c" * 10]
    for n, chunk in enumerate(chunks, 1):
        put = httpx.put(f"{created['access_url']}/multipart/{created['uploadId']}/{n}", content=chunk,
                        headers={**auth, "Accept-Encoding": "identity"})  # fmt: skip
        assert put.headers["etag"]
        parts.append({"partNumber": n, "etag": put.headers["etag"]})
    done = httpx.post(f"{created['access_url']}/multipart/{created['uploadId']}/complete",
                      json={"parts": parts}, headers=auth)  # fmt: skip
    assert done.json()["access_url"] == created["access_url"]
    served = httpx.get(created["access_url"])
    assert served.content == b"".join(chunks) and served.headers["content-type"] == "video/mp4"


def test_rest_initiate_simple_upload(client, fal_sandbox):
    init = client.post(f"{fal_sandbox.urls['rest']}/storage/upload/initiate", params={"storage_type": "fal-cdn-v3"},
                       json={"content_type": "image/png", "file_name": "cat.png"}).json()  # fmt: skip
    put = httpx.put(
        init["upload_url"], content=b"\x89PNG...", headers={"Content-Type": "image/png"}
    )
    assert put.status_code == 200
    served = httpx.get(init["file_url"])
    assert served.content == b"\x89PNG..." and served.headers["content-type"] == "image/png"
    again = httpx.put(init["upload_url"], content=b"x")
    assert again.status_code == 404


def test_rest_initiate_multipart_upload_js_style(client, fal_sandbox):
    init = client.post(f"{fal_sandbox.urls['rest']}/storage/upload/initiate-multipart",
                       params={"storage_type": "fal-cdn-v3"},
                       json={"content_type": "video/mp4", "file_name": "clip.mp4"}).json()  # fmt: skip
    parts_url = urlsplit(init["upload_url"])
    parts = []
    for n, chunk in enumerate([b"x" * 500, b"y" * 7], 1):
        url = urlunsplit(parts_url._replace(path=f"{parts_url.path}/{n}"))
        reply = httpx.put(url, content=chunk, headers={"Content-Type": "application/json"})
        assert reply.headers["content-type"] == "application/json"
        assert reply.json()["partNumber"] == n
        parts.append(reply.json())
    complete = urlunsplit(parts_url._replace(path=f"{parts_url.path}/complete"))
    assert httpx.post(complete, json={"parts": parts}).status_code == 200
    assert httpx.get(init["file_url"]).content == b"x" * 500 + b"y" * 7
    bad = urlunsplit(parts_url._replace(query="token=wrong"))
    assert httpx.put(bad.replace("/multipart", "/multipart/3"), content=b"z").status_code in (
        403,
        404,
    )


def test_file_serving_range_etag_if_range(fal_sandbox):
    url = fal_sandbox.make_file(1_000_000, "video/mp4", "big.mp4")
    head = httpx.head(url)
    assert head.headers["content-length"] == "1000000" and head.headers["accept-ranges"] == "bytes"
    etag = head.headers["etag"]
    full = httpx.get(url).content
    assert len(full) == 1_000_000
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == full[100:200]
    assert part.headers["content-range"] == "bytes 100-199/1000000"
    tail = httpx.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == full[-10:]
    resume = httpx.get(url, headers={"Range": "bytes=999990-", "If-Range": etag})
    assert resume.status_code == 206 and resume.content == full[999990:]
    stale = httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and len(stale.content) == 1_000_000
    bad = httpx.get(url, headers={"Range": "bytes=2000000-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == "bytes */1000000"
    assert httpx.get(url.rsplit("/", 2)[0] + "/nope/x").status_code == 404


def test_uploads_stream_to_disk(client, fal_sandbox):
    init = client.post(f"{fal_sandbox.urls['rest']}/storage/upload/initiate",
                       json={"content_type": "application/octet-stream", "file_name": "b.bin"}).json()  # fmt: skip

    def body():
        for _ in range(8):
            yield b"z" * 65536

    assert httpx.put(init["upload_url"], content=body()).status_code == 200
    stored = next(iter(fal_sandbox.sandbox.storage.files.values()))
    assert stored.path.parent == fal_sandbox.sandbox.storage.root and stored.size == 8 * 65536
