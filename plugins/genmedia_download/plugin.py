"""Hook implementations of the download plugin: ``--download`` on ``run`` and ``status``.

Imported on every command, so only click and the core's hook marker at module level; the
sink (httpx, threads, rich) is imported when a result is actually handled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from genmedia import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import RunResult

#: the value of a bare ``--download``: the current directory, source file names. (Not
#: ``""``: ``status`` treats an empty value as "not given".)
BARE_DOWNLOAD = "."
#: option names that only mean something together with ``--download``.
_COMPANIONS = ("download_concurrency", "overwrite", "keep_partial", "sidecar")


def _check_template(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from genmedia_download.naming import check_template

    try:
        check_template(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


@hookimpl
def genmedia_add_options(command_name: str) -> list[click.Parameter] | None:
    if command_name not in ("run", "status"):
        return None
    return [
        click.Option(
            ["--download"],
            is_flag=False,
            flag_value=BARE_DOWNLOAD,
            default=None,
            metavar="[TEMPLATE]",
            callback=_check_template,
            help=(
                "Save every media file of the result. No value: the current directory; "
                "DIR/ or an existing directory: that directory, source names; else a path "
                "template with {index} {name} {ext} {request_id} {endpoint} {seed}."
                + (" Implies --result." if command_name == "status" else "")
            ),
        ),
        click.Option(
            ["--download-concurrency"],
            type=click.IntRange(1, 32),
            default=None,
            metavar="N",
            help="Parallel downloads (default 4).",
        ),
        click.Option(
            ["--overwrite"], is_flag=True, default=None,
            help="With --download: replace existing files instead of adding _1, _2 suffixes.",
        ),
        click.Option(
            ["--keep-partial"], is_flag=True, default=None,
            help="With --download: keep NAME.part after a failure so a rerun resumes it.",
        ),
        click.Option(
            ["--sidecar"], is_flag=True, default=None,
            help="With --download: write NAME.json beside each file (provenance: endpoint, "
            "request id, input, seed, source URL).",
        ),
    ]  # fmt: skip


@hookimpl
def genmedia_config_keys() -> list[Any]:
    """``genmedia config set download.template|download.concurrency``."""
    from genmedia.configkeys import ConfigKey, int_range

    def template(raw: str) -> str:
        from genmedia_download.naming import check_template

        if not raw.strip():
            raise ValueError("expected a directory (DIR/) or a path template")
        check_template(raw)
        return raw

    return [
        ConfigKey(
            "download.template",
            ("plugins", "download", "template"),
            template,
            BARE_DOWNLOAD,
            "where a bare --download saves (DIR/ or a template with {index} {name} {ext} …)",
        ),
        ConfigKey(
            "download.concurrency",
            ("plugins", "download", "concurrency"),
            int_range(1, 32),
            4,
            "parallel downloads when --download-concurrency is not given",
        ),
    ]


@hookimpl
def genmedia_handle_result(
    result: RunResult, options: Mapping[str, Any], ctx: AppContext
) -> Mapping[str, Any] | None:
    if options.get("download") is None:
        stray = [name for name in _COMPANIONS if options.get(name)]
        if stray:
            flags = ", ".join("--" + name.replace("_", "-") for name in stray)
            ctx.warn(f"{flags} only applies together with --download; ignored")
        return None
    from genmedia_download.sink import download_result

    return download_result(ctx, result, _with_config_defaults(ctx, options))


def _with_config_defaults(ctx: AppContext, options: Mapping[str, Any]) -> Mapping[str, Any]:
    """``plugins.download.template`` (for a bare ``--download``) and ``.concurrency`` from
    the config file (``genmedia config set download.template …``); flags win."""
    section = ctx.settings.plugin_config("download")
    merged = dict(options)
    template = section.get("template")
    if options.get("download") == BARE_DOWNLOAD and isinstance(template, str) and template:
        merged["download"] = template
    concurrency = section.get("concurrency")
    if options.get("download_concurrency") is None and isinstance(concurrency, int):
        merged["download_concurrency"] = max(1, min(32, concurrency))
    return merged
