"""Hook implementations of the fal plugin.

Imported on every CLI start: module-level imports are limited to the standard library
and click/attrs (the provider, httpx and rich are imported inside the hooks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from genmedia import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    import click

    from genmedia.config import Settings
    from genmedia.context import AppContext
    from genmedia.provider import Provider
    from genmedia.types import ErrorReport, ModelSchema


@hookimpl
def genmedia_register_providers(register: Callable[[Provider], None], ctx: AppContext) -> None:
    from genmedia_fal.provider import FalProvider

    register(FalProvider(ctx))


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    from genmedia.cli import LazyCommand

    for name, short_help in (
        ("pricing", "Show a model's price, or estimate a run's cost."),
        ("docs", "Search fal's documentation."),
        ("setup", "Store the fal API key and output preferences in the config file."),
    ):
        cli.add_command(LazyCommand(name, f"genmedia_fal.commands:{name}", short_help))
    cli.add_command(
        LazyCommand(
            "assets",
            "genmedia_fal.assets.commands:assets",
            "Browse, upload and organise the fal Assets library.",
        )
    )


@hookimpl
def genmedia_config_keys() -> list[Any]:
    """``genmedia config set hosts.<role> URL``: where each fal host lives."""
    from genmedia.configkeys import ConfigKey, url
    from genmedia_fal.client import HOSTS

    return [
        ConfigKey(
            f"hosts.{role}",
            ("hosts", role),
            url,
            None,
            f"base URL of the fal {role} host (routing; default: fal's own)",
            env=env,
        )
        for role, (env, _default) in HOSTS.items()
    ]


@hookimpl(trylast=True)
def genmedia_configure(config: Settings) -> None:
    """Never fall through to the real service when the emulator was asked for but no
    plugin started it (the sandbox plugin disabled); a config file ``api_key`` that is
    not text is ignored, with a warning."""
    import os

    from genmedia import truthy

    if truthy(os.environ.get("GENMEDIA_SANDBOX")) and not config.marks.get("sandbox"):
        from genmedia.errors import ConfigError

        raise ConfigError(
            "GENMEDIA_SANDBOX asks for the fal emulator, but no plugin started it",
            {
                "hint": "do not disable the sandbox plugin (genmedia plugins), or unset "
                "GENMEDIA_SANDBOX"
            },
        )
    value = config.file_values.get("api_key")
    if value is not None and not isinstance(value, str):
        config.warnings.append(
            f"ignoring 'api_key' in {config.config_path}: expected a str, "
            f"got {type(value).__name__}"
        )


@hookimpl
def genmedia_add_options(command_name: str) -> list[click.Parameter] | None:
    """fal's queue options on ``run``: they reach the provider in ``request.extra``."""
    if command_name != "run":
        return None
    import click

    return [
        click.Option(
            ["--start-timeout"],
            type=click.FloatRange(min=1, min_open=True),
            metavar="S",
            help="(fal) Server-side deadline for the job to start (queue wait), in seconds.",
        ),
        click.Option(
            ["--priority"], type=click.Choice(["low", "normal"]), help="(fal) Queue priority."
        ),
    ]


@hookimpl
def genmedia_get_schema(
    endpoint_id: str, provider: Provider, ctx: AppContext, refresh: bool
) -> ModelSchema | None:
    """fal's schemas come from its on-disk cache; ``refresh`` skips it."""
    import sys

    module: Any = sys.modules.get("genmedia_fal.provider")
    if module is None or not isinstance(provider, module.FalProvider):
        return None
    return provider.schema(endpoint_id, refresh=refresh)  # type: ignore[no-any-return]


@hookimpl
def genmedia_format_error(error: BaseException, ctx: AppContext) -> ErrorReport | None:
    import sys

    module: Any = sys.modules.get("genmedia_fal.errors")
    if module is None:  # no fal error can exist if the module was never imported
        return None
    return module.format_error(error)  # type: ignore[no-any-return]
