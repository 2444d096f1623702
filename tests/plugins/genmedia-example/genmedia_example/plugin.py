"""Hook implementations of genmedia-example's provider part."""

from __future__ import annotations

from typing import Any

from genmedia import hookimpl


@hookimpl
def genmedia_register_providers(register: Any, ctx: Any) -> None:
    from genmedia_example.provider import EchoProvider

    # The provider resolves its own credentials: EXAMPLE_KEY, else the config file's
    # ``plugins.example.key``; ``plugins.example.require_key = true`` makes runs need one.
    config = ctx.settings.plugin_config("example")
    register(
        EchoProvider(key_source=_key_source(config), require_key=bool(config.get("require_key")))
    )


def _key_source(config: Any) -> tuple[str, str] | None:
    """The key and its source; every key read is registered with the redactor, so no
    error or debug line can print it (the core knows no provider's key)."""
    import os

    from genmedia.redact import register_secret

    if os.environ.get("EXAMPLE_KEY"):
        register_secret(os.environ["EXAMPLE_KEY"])
        return os.environ["EXAMPLE_KEY"].strip(), "env:EXAMPLE_KEY"
    if config.get("key"):
        register_secret(str(config["key"]))
        return str(config["key"]).strip(), "config:plugins.example.key"
    return None
