"""Retries, Idempotency-Key and error mapping of the assets client, on the wire."""

from __future__ import annotations

import uuid

import pytest

from genmedia import errors


@pytest.fixture
def fast_retries(monkeypatch):
    """Same number of attempts, (almost) no waiting between them."""
    from genmedia_fal.assets import client

    monkeypatch.setattr(client, "POLICY", client.RetryPolicy(attempts=4, base=0.01, cap=0.02))


def test_429_then_success_is_retried_once_with_nothing_duplicated(lib):
    lib.server.add_fault(role="api", path="/assets/tags", method="POST", code=429, count=1,
                         retry_after=0)  # fmt: skip
    out = lib.ok("assets", "tags", "create", "retried", "--idempotency_key", "key-429")
    assert out["tag"]["name"] == "retried"
    calls = lib.api_calls("POST", "/assets/tags")
    assert [c.status_code for c in calls] == [429, 201]
    assert [t["name"] for t in lib.state.tags.values()] == ["retried"]
    # the one mutation that reached the handler was recorded under the user's key
    assert list(lib.server.sandbox.idempotency) == ["key-429"]


def test_lost_response_is_retried_with_the_same_generated_key(lib):
    """The first POST is fully handled (the tag IS created), then the connection drops
    before any response. The retry must carry the same Idempotency-Key so the emulator
    replays the first answer: with a new key it would create a second tag (here: a 409
    "already exists"), so success with one tag proves the key was reused."""
    lib.server.add_fault(role="api", path="/assets/tags", method="POST", kind="reset_after_body",
                         count=1)  # fmt: skip
    out = lib.ok("assets", "tags", "create", "once")
    calls = lib.api_calls("POST", "/assets/tags")
    assert len(calls) == 2
    assert len(lib.state.tags) == 1
    assert out["tag"] == next(iter(lib.state.tags.values()))
    keys = list(lib.server.sandbox.idempotency)
    assert len(keys) == 1 and uuid.UUID(keys[0]).version == 4


def test_lost_upload_response_creates_one_asset(lib):
    lib.server.add_fault(role="api", path="/assets/uploads", method="POST",
                         kind="reset_after_body", count=1)  # fmt: skip
    asset = lib.asset("only once")
    assert len(lib.state.assets) == 1
    assert asset["asset_id"] in lib.state.assets


def test_each_invocation_gets_its_own_key(lib):
    lib.tag("one")
    lib.tag("two")
    assert len(lib.server.sandbox.idempotency) == 2


def test_reusing_a_key_replays_the_first_answer(lib):
    first = lib.ok("assets", "tags", "create", "same", "--idempotency-key", "k1")
    again = lib.ok("assets", "tags", "create", "same", "--idempotency-key", "k1")
    assert again == first
    assert len(lib.state.tags) == 1


def test_gets_are_retried_too(lib):
    lib.server.add_fault(role="api", path="/assets/tags", method="GET", code=503, count=2,
                         retry_after=0)  # fmt: skip
    assert lib.ok("assets", "tags", "list") == {"tags": []}
    assert [c.status_code for c in lib.api_calls("GET", "/assets/tags")] == [503, 503, 200]


@pytest.mark.parametrize(
    "code, exit_code",
    [
        (500, errors.EXIT_REMOTE),
        (502, errors.EXIT_REMOTE),
        (429, errors.EXIT_RATE_LIMITED),
        (401, errors.EXIT_AUTH),
        (403, errors.EXIT_AUTH),
    ],
)
def test_error_statuses_map_to_exit_codes(lib, code, exit_code, fast_retries):
    lib.server.add_fault(role="api", path="/assets/tags", code=code, retry_after=0)
    result = lib.cli("assets", "tags", "list")
    assert result.exit_code == exit_code
    assert result.error["error"] == f"Assets GET /tags failed ({code})"
    retried = code in (429, 500, 502)
    assert len(lib.api_calls("GET", "/assets/tags")) == (4 if retried else 1)


def test_browse_error_message_keeps_upstreams_empty_path(lib):
    lib.server.add_fault(role="api", path="/assets", code=404, count=1)
    result = lib.cli("assets", "browse")
    assert result.exit_code == errors.EXIT_NOT_FOUND
    assert result.error["error"] == "Assets GET  failed (404)"


def test_missing_key_fails_before_any_request(lib, monkeypatch):
    monkeypatch.delenv("FAL_KEY")
    result = lib.cli("assets", "tags", "list")
    assert result.exit_code == errors.EXIT_AUTH
    assert result.error["error"].startswith("No fal.ai API key found")
    assert "hint" in result.error["details"]
    assert lib.api_calls() == []


def test_the_key_is_sent_and_never_printed(lib):
    lib.server.add_fault(role="api", path="/assets/tags", code=401)
    result = lib.cli("assets", "tags", "list")
    assert all(c.has_authorization for c in lib.api_calls())
    assert "sandbox-test-key" not in result.stdout + result.stderr


def test_unreachable_api_is_a_network_error_with_a_retry_hint(lib, monkeypatch, fast_retries):
    monkeypatch.setenv("GENMEDIA_FAL_API_URL", "http://127.0.0.1:9/v1")
    result = lib.cli("assets", "tags", "create", "x", "--idempotency_key", "k-net")
    assert result.exit_code == errors.EXIT_REMOTE
    assert result.error["error"].startswith("Assets POST /tags failed: ConnectError")
    assert result.error["details"]["idempotency_key"] == "k-net"
    assert "--idempotency_key k-net" in result.error["details"]["hint"]


def test_non_json_error_body_becomes_text_details(lib, fast_retries):
    # an nginx-style HTML page (no JSON): details is the raw text, as upstream prints it
    lib.server.add_fault(role="api", path="/assets/tags", code=503, request_id=False)
    result = lib.cli("assets", "tags", "list")
    assert result.exit_code == errors.EXIT_REMOTE
    assert result.error["error"] == "Assets GET /tags failed (503)"
    assert isinstance(result.error["details"], str) and "nginx" in result.error["details"]
