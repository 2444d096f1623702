"""Hook implementations of genmedia-example's provider part."""

from __future__ import annotations

from typing import Any

from genmedia import hookimpl


@hookimpl
def genmedia_register_providers(register: Any) -> None:
    from genmedia_example.provider import EchoProvider

    register(EchoProvider())
