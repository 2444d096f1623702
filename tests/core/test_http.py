"""The retry helper and the shared client (narrow unit tests; the end-to-end retry tests
run against the emulator in tests/fal and tests/download)."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from genmedia.http import (
    DELAY_SCALE_ENV,
    USER_AGENT,
    RetryPolicy,
    delay_scale,
    make_client,
    parse_retry_after,
    retry_call,
)


@pytest.fixture(autouse=True)
def real_delays(monkeypatch):
    """These tests read the waits from a fake clock: no scaling (the suite sets 0)."""
    monkeypatch.delenv(DELAY_SCALE_ENV, raising=False)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def scripted(*responses):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        item = responses[min(len(calls), len(responses) - 1)]
        calls.append(request)
        if isinstance(item, Exception):
            raise item
        return item

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return client, calls


def test_retries_retryable_status_then_succeeds():
    client, calls = scripted(httpx.Response(503), httpx.Response(502), httpx.Response(200))
    clock = Clock()
    response = retry_call(lambda: client.get("http://h/x"), sleep=clock.sleep, clock=clock)
    assert response.status_code == 200
    assert len(calls) == 3
    assert len(clock.sleeps) == 2


def test_retry_after_seconds_is_honoured():
    client, _ = scripted(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200))
    clock = Clock()
    retry_call(lambda: client.get("http://h/x"), sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [3.0]


def test_retry_after_is_capped():
    client, _ = scripted(httpx.Response(503, headers={"Retry-After": "9999"}), httpx.Response(200))
    clock = Clock()
    policy = RetryPolicy(retry_after_cap=5.0, total=100)
    retry_call(lambda: client.get("http://h/x"), policy, sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [5.0]


def test_retry_after_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= parse_retry_after(when) <= 31
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0.0


def test_attempts_are_capped_and_last_response_returned():
    client, calls = scripted(httpx.Response(500))
    clock = Clock()
    policy = RetryPolicy(attempts=4, total=1000)
    response = retry_call(lambda: client.get("http://h/x"), policy, sleep=clock.sleep, clock=clock)
    assert response.status_code == 500
    assert len(calls) == 4


def test_total_time_is_capped():
    client, calls = scripted(httpx.Response(503, headers={"Retry-After": "4"}))
    clock = Clock()
    policy = RetryPolicy(attempts=100, total=10, retry_after_cap=30)
    retry_call(lambda: client.get("http://h/x"), policy, sleep=clock.sleep, clock=clock)
    assert sum(clock.sleeps) <= 10
    assert len(calls) == 3  # 0s, 4s, 8s; the next wait would pass the budget


def test_non_retryable_status_returns_at_once():
    client, calls = scripted(httpx.Response(404), httpx.Response(200))
    assert retry_call(lambda: client.get("http://h/x"), sleep=Clock().sleep).status_code == 404
    assert len(calls) == 1


def test_transport_errors_retried_only_when_marked_safe():
    boom = httpx.ConnectError("refused")
    client, calls = scripted(boom, httpx.Response(200))
    assert retry_call(lambda: client.get("http://h/x"), sleep=Clock().sleep).status_code == 200
    client, calls = scripted(httpx.ReadError("reset"), httpx.Response(200))
    unsafe = RetryPolicy(transport_errors=False)
    with pytest.raises(httpx.ReadError):
        retry_call(lambda: client.post("http://h/x"), unsafe, sleep=Clock().sleep)
    assert len(calls) == 1


def test_custom_predicates():
    client, calls = scripted(httpx.ReadError("reset"), httpx.Response(200))
    only_connect = lambda exc: isinstance(exc, httpx.ConnectError)  # noqa: E731
    with pytest.raises(httpx.ReadError):
        retry_call(
            lambda: client.get("http://h/x"), retry_exception=only_connect, sleep=Clock().sleep
        )
    client, calls = scripted(
        httpx.Response(200, json={"ok": False}), httpx.Response(200, json={"ok": True})
    )
    value = retry_call(
        lambda: client.get("http://h/x"),
        should_retry=lambda r: not r.json()["ok"],
        sleep=Clock().sleep,
    )
    assert value.json() == {"ok": True}


def test_backoff_grows_with_jitter():
    client, _ = scripted(httpx.Response(503))
    clock = Clock()
    policy = RetryPolicy(attempts=5, base=1.0, cap=100, total=1000)
    retry_call(lambda: client.get("http://h/x"), policy, sleep=clock.sleep, clock=clock)
    for i, delay in enumerate(clock.sleeps):
        ceiling = 2**i
        assert ceiling / 2 <= delay <= ceiling


def test_the_delay_scale_shortens_waits_but_not_the_computed_delays(monkeypatch):
    monkeypatch.setenv(DELAY_SCALE_ENV, "0")
    client, calls = scripted(httpx.Response(503, headers={"Retry-After": "4"}))
    clock = Clock()
    reported = []
    policy = RetryPolicy(attempts=100, total=10, retry_after_cap=30)
    retry_call(
        lambda: client.get("http://h/x"),
        policy,
        sleep=clock.sleep,
        clock=clock,
        on_retry=lambda attempt, delay, reason: reported.append(delay),
    )
    assert clock.sleeps == [0.0, 0.0]  # nothing waited
    assert reported == [4.0, 4.0]  # the delays Retry-After asked for
    assert len(calls) == 3  # the budget counts the computed delays: same attempts as unscaled


@pytest.mark.parametrize(
    ("raw", "scale"),
    [(None, 1.0), ("", 1.0), ("0", 0.0), ("0.5", 0.5), ("7", 1.0), ("-1", 0.0), ("x", 1.0),
     ("nan", 1.0)],
)  # fmt: skip
def test_delay_scale_values(monkeypatch, raw, scale):
    if raw is not None:
        monkeypatch.setenv(DELAY_SCALE_ENV, raw)
    assert delay_scale() == scale


def test_client_sends_user_agent_and_no_authorization():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200)

    with make_client(transport=httpx.MockTransport(handler)) as client:
        client.get("http://cdn.example/x")
        assert client.timeout.connect == 10.0
    assert seen[0].headers["user-agent"] == USER_AGENT
    assert "authorization" not in seen[0].headers
