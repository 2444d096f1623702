"""A tiny third-party plugin for tests: ``--staging``, a global option that marks every
output ``{"staging": true}`` and makes hints say ``genmedia --staging`` (what the sandbox
plugin does with its own mark and option), through ``genmedia_configure`` only. Tests of
the plugins that remember or show runs use it to check that they handle marks generically,
never by the sandbox's name."""

from __future__ import annotations

from typing import Any

import click

from genmedia import hookimpl


class Staging:
    @hookimpl
    def genmedia_add_options(self, command_name: str) -> list[click.Parameter] | None:
        if command_name != "genmedia":
            return None
        return [click.Option(["--staging"], is_flag=True, default=None, help="Staging.")]

    @hookimpl
    def genmedia_configure(self, config: Any) -> None:
        if config.options.get("staging"):
            config.marks["staging"] = True
            config.invocation += " --staging"
