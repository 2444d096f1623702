"""Fixtures for the gallery: real runs against the fal emulator, journaled in the test's home.

``fal_sandbox_env`` points genmedia at the session emulator and sets ``GENMEDIA_HOME`` to
a directory of this test, so the journal (``$GENMEDIA_HOME/data/history.db``) and the
default gallery (``$GENMEDIA_HOME/data/gallery``) are the test's own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

IMAGE = "fal-ai/flux/schnell"
IMAGE_2 = "fal-ai/flux/dev"
VIDEO = "fal-ai/veo3"
AUDIO = "fal-ai/stable-audio-25/text-to-audio"
HOSTILE = '<script>alert("x")</script> "><img src=x onerror=alert(1)> & done'


@pytest.fixture
def home() -> Path:
    return Path(os.environ["GENMEDIA_HOME"])


@pytest.fixture
def sandbox_run(fal_sandbox_env: Any, cli: Any, chdir_tmp: Path) -> Callable[..., dict[str, Any]]:
    """``sandbox_run(endpoint, "--prompt", "x", download=True)`` → the run's JSON output."""

    def run(endpoint: str, *args: str, download: bool = True) -> dict[str, Any]:
        extra = ["--download", "media/"] if download else []
        result = cli("run", endpoint, *args, *extra, "--json")
        assert result.exit_code == 0, result
        return json.loads(result.stdout)

    return run


@pytest.fixture
def three_runs(sandbox_run: Callable[..., dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """An image, a video and an audio run (downloaded), plus the hostile prompt and a
    second model on the image prompt (a side-by-side group)."""
    return {
        "image": sandbox_run(IMAGE, "--prompt", "a lighthouse at dawn"),
        "image2": sandbox_run(IMAGE_2, "--prompt", "a lighthouse at dawn"),
        "video": sandbox_run(VIDEO, "--prompt", "waves crashing on rocks"),
        "audio": sandbox_run(AUDIO, "--prompt", "gentle rain on a tin roof"),
        "hostile": sandbox_run(IMAGE, "--prompt", HOSTILE, download=False),
    }
