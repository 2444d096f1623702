"""Helpers shared by the hook tests (tests/core/test_hooks.py, test_hook_contract.py)."""

from __future__ import annotations

from typing import Any

import pytest

from genmedia.testing import invoke
from tests.core.sitepkgs import EXAMPLE_SRC


@pytest.fixture(autouse=True)
def example_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))


def example_plugin():
    import genmedia_example.plugin

    return genmedia_example.plugin


def run(args: list[str], *plugins: Any, builtins: bool = False, **kw: Any):
    return invoke(args, plugins=[example_plugin(), *plugins], builtins=builtins, **kw)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
