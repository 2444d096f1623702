"""Helpers for the assets tests: every test talks to the emulator over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest


class Library:
    """Builds library state through the CLI (so setup also exercises the commands)."""

    def __init__(self, server: Any, cli: Callable[..., Any]) -> None:
        self.server = server
        self.cli = cli
        self._n = 0

    def ok(self, *args: str, input: str | None = None) -> Any:
        result = self.cli(*args, input=input)
        assert result.exit_code == 0, result
        return result.json

    def file_url(self, name: str = "cat.png", content_type: str = "image/png") -> str:
        """A file on the emulator's CDN (counts as fal-hosted for ``assets upload``)."""
        self._n += 1
        return self.server.make_file(64 + self._n, content_type=content_type, name=name)

    def asset(self, prompt: str = "a cat", *extra: str, name: str = "cat.png") -> dict[str, Any]:
        url = self.file_url(name, "image/png" if name.endswith(".png") else "video/mp4")
        return self.ok("assets", "upload", url, "--prompt", prompt, *extra)["asset"]

    def tag(self, name: str) -> dict[str, Any]:
        return self.ok("assets", "tags", "create", name)["tag"]

    def collection(self, name: str = "Moodboard", *extra: str) -> dict[str, Any]:
        return self.ok("assets", "collections", "create", name, *extra)["collection"]

    def completed_request(self, prompt: str = "an elegant black cat") -> str:
        """A finished generation on the emulator's queue; returns its request_id."""
        response = httpx.post(
            self.server.urls["queue"] + "/fal-ai/flux/schnell",
            json={"prompt": prompt},
            headers={"Authorization": "Key sandbox-test-key"},
        )
        response.raise_for_status()
        request_id = response.json()["request_id"]
        deadline = time.monotonic() + 10
        while self.server.job(request_id).status != "COMPLETED":
            assert time.monotonic() < deadline, "sandbox job did not complete"
            time.sleep(0.01)
        return str(request_id)

    def settle(self) -> None:
        """Wait until the request log stops growing: the emulator appends an entry after
        the response went out, so the CLI can return before its last call is logged."""
        deadline = time.monotonic() + 1.0
        count = -1
        while time.monotonic() < deadline:
            now = len(self.server.requests)
            if now == count:
                return
            count = now
            time.sleep(0.02)

    def api_calls(self, method: str | None = None, path: str | None = None) -> list[Any]:
        """The emulator's log of Platform API requests (optionally filtered)."""
        self.settle()
        return [
            r
            for r in self.server.requests
            if r.role == "api"
            and (method is None or r.method == method)
            and (path is None or r.path == path)
        ]

    @property
    def state(self) -> Any:
        return self.server.sandbox.assets


@pytest.fixture
def lib(fal_sandbox_env: Any, cli: Callable[..., Any]) -> Library:
    return Library(fal_sandbox_env, cli)
