"""Platform API (models, pricing, estimate), docs search, and openapi validation of /api/v1."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import httpx
import pytest


def test_models_listing_and_cursor(client, fal_sandbox):
    api = fal_sandbox.urls["api"]
    first = client.get(f"{api}/models", params={"limit": 5}).json()
    assert len(first["models"]) == 5 and first["has_more"] and first["next_cursor"] == "Mg=="
    second = client.get(f"{api}/models", params={"limit": 5, "cursor": first["next_cursor"]}).json()
    assert {m["endpoint_id"] for m in first["models"]}.isdisjoint(
        m["endpoint_id"] for m in second["models"]
    )
    everything = client.get(f"{api}/models", params={"limit": 500}).json()
    assert everything["has_more"] is False and everything["next_cursor"] is None
    assert len(everything["models"]) == len(fal_sandbox.sandbox.catalog.models)


def test_models_search_filters(client, fal_sandbox):
    api = fal_sandbox.urls["api"]
    found = client.get(
        f"{api}/models", params={"q": "flux", "category": "text-to-image", "status": "active"}
    ).json()
    ids = [m["endpoint_id"] for m in found["models"]]
    assert "fal-ai/flux/schnell" in ids and all(
        m["metadata"]["category"] == "text-to-image" for m in found["models"]
    )
    meta = next(m for m in found["models"] if m["endpoint_id"] == "fal-ai/flux/dev")["metadata"]
    assert meta["display_name"] == "FLUX.1 [dev]" and meta["is_favorited"] is False
    anon = httpx.get(f"{api}/models", params={"q": "flux"}).json()
    assert anon["models"][0]["metadata"]["is_favorited"] is None


def test_models_find_mode_and_expand(client, fal_sandbox):
    api = fal_sandbox.urls["api"]
    resp = client.get(
        f"{api}/models",
        params=[("endpoint_id", "fal-ai/veo3"), ("endpoint_id", "fal-ai/flux/dev,fal-ai/esrgan"),
                ("expand", "openapi-3.0"), ("expand", "enterprise_status")],
    ).json()  # fmt: skip
    assert [m["endpoint_id"] for m in resp["models"]] == [
        "fal-ai/veo3",
        "fal-ai/flux/dev",
        "fal-ai/esrgan",
    ]
    assert resp["models"][0]["openapi"]["openapi"].startswith("3.0")
    assert resp["models"][0]["enterprise_status"] == "ready"
    assert client.get(f"{api}/models", params={"endpoint_id": "no/such"}).json()["models"] == []


@pytest.mark.fal_sandbox_allow_invalid
def test_models_bad_params(client, fal_sandbox):
    api = fal_sandbox.urls["api"]
    bad = client.get(f"{api}/models", params={"expand": "everything"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "validation_error"
    assert client.get(f"{api}/models", params={"limit": "0"}).status_code == 400
    assert client.get(f"{api}/models", params={"cursor": "!!"}).status_code == 400
    no_key = httpx.get(f"{api}/models/pricing", params={"endpoint_id": "fal-ai/flux/dev"})
    assert no_key.status_code == 401 and no_key.json()["error"]["type"] == "authorization_error"


def test_pricing_and_estimate(client, fal_sandbox):
    api = fal_sandbox.urls["api"]
    prices = client.get(
        f"{api}/models/pricing", params={"endpoint_id": "fal-ai/flux/dev,fal-ai/veo3"}
    ).json()
    assert [p["endpoint_id"] for p in prices["prices"]] == ["fal-ai/flux/dev", "fal-ai/veo3"]
    assert prices["prices"][0] == {
        "endpoint_id": "fal-ai/flux/dev",
        "unit_price": 0.025,
        "unit": "image",
        "currency": "USD",
    }
    assert client.get(f"{api}/models/pricing", params={"endpoint_id": "no/such"}).status_code == 404
    est = client.post(f"{api}/models/pricing/estimate", json={
        "estimate_type": "historical_api_price", "endpoints": {"fal-ai/flux/dev": {"call_quantity": 100}}}).json()  # fmt: skip
    assert est == {"estimate_type": "historical_api_price", "total_cost": 2.5, "currency": "USD"}


def test_conforming_traffic_records_nothing(client, fal_sandbox):
    client.get(f"{fal_sandbox.urls['api']}/models", params={"q": "video", "limit": 3})
    client.get(
        f"{fal_sandbox.urls['api']}/assets",
        params={"section": "all-media", "tag_mode": "any", "limit": 20},
    )
    assert fal_sandbox.validation_errors == []


@pytest.mark.fal_sandbox_allow_invalid
def test_nonconforming_request_is_recorded(client, fal_sandbox):
    resp = client.get(
        f"{fal_sandbox.urls['api']}/assets", params={"q": "", "media_type": "hologram"}
    )
    assert resp.status_code == 200
    issues = fal_sandbox.validation_errors
    assert issues and all(i.direction == "request" and i.path == "/v1/assets" for i in issues)
    assert any("media_type" in i.message or "q" in i.message for i in issues)


def test_validation_failure_fails_the_test_that_caused_it(tmp_path):
    test = tmp_path / "test_inner.py"
    test.write_text(
        textwrap.dedent("""
        import httpx

        def test_sends_invalid(fal_sandbox):
            httpx.post(fal_sandbox.urls["api"] + "/assets/tags", json={"name": ""},
                       headers={"Authorization": "Key sandbox-k"})

        def test_clean(fal_sandbox):
            httpx.get(fal_sandbox.urls["api"] + "/models")
    """)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "genmedia_sandbox.pytest_plugin", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", "/dev/null", str(test)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert "2 passed, 1 error" in proc.stdout, proc.stdout + proc.stderr
    assert "does not conform to platform-openapi.json" in proc.stdout
    assert "test_sends_invalid" in proc.stdout


def _docs(client, server, query):
    resp = client.post(
        server.urls["docs"],
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search_fal", "arguments": {"query": query}}},
        headers={"Accept": "application/json, text/event-stream"},
    )  # fmt: skip
    assert resp.headers["content-type"].startswith("text/event-stream")
    line = next(ln for ln in resp.text.splitlines() if ln.startswith("data: "))
    return json.loads(line[6:])


def test_docs_search(fal_sandbox):
    with httpx.Client() as anon:
        reply = _docs(anon, fal_sandbox, "webhook callbacks")
    first = reply["result"]["content"][0]["text"]
    assert (
        first.startswith("Title: Webhooks\nLink: https://docs.fal.ai/") and "\nContent: " in first
    )
    with httpx.Client() as anon:
        assert _docs(anon, fal_sandbox, "zzzzqqq")["result"]["content"] == []
        bad = anon.post(
            fal_sandbox.urls["docs"], json={"jsonrpc": "2.0", "id": 2, "method": "nope"}
        )
    assert "error" in json.loads(bad.text.split("data: ", 1)[1])
