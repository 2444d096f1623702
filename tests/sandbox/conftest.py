"""Fixtures for the emulator's own tests (the sandbox fixtures come from genmedia_sandbox.pytest_plugin)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from genmedia_sandbox.server import SandboxServer

KEY = {"Authorization": "Key sandbox-test:secret"}


class Fal:
    """A raw-httpx driver for the emulator's fal routes (no genmedia code involved)."""

    def __init__(self, client: httpx.Client, server: SandboxServer) -> None:
        self.client = client
        self.server = server
        self.urls = server.urls

    def submit(self, endpoint: str, payload: Any = None, **kw: Any) -> dict[str, Any]:
        resp = self.client.post(f"{self.urls['queue']}/{endpoint}", json=payload or {}, **kw)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def wait(self, status_url: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.client.get(status_url, params={"logs": "1"}).json()
            if body["status"] == "COMPLETED" or time.monotonic() > deadline:
                return body
            time.sleep(0.005)

    def run(self, endpoint: str, payload: Any = None) -> httpx.Response:
        sub = self.submit(endpoint, payload)
        assert self.wait(sub["status_url"])["status"] == "COMPLETED"
        return self.client.get(sub["response_url"])


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(headers=KEY, timeout=10) as c:
        yield c


@pytest.fixture
def fal(client: httpx.Client, fal_sandbox: SandboxServer) -> Fal:
    return Fal(client, fal_sandbox)
