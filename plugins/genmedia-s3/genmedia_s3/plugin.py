"""Hook implementations of genmedia-s3: ``--save-to s3://…`` on ``run`` and ``status``.

Imported on every command (through the ``genmedia`` entry point), so only click and the
core's hook marker at module level; boto3 and the sink load when a result is handled.

Three hooks:

* ``genmedia_add_options`` adds ``--save-to``, ``--s3-endpoint-url`` and ``--s3-sidecar``;
* ``genmedia_prepare_request`` checks, before a paid ``run`` is submitted, that the AWS
  credential chain finds credentials (exit 3 otherwise: nothing was paid);
* ``genmedia_handle_result`` streams each output into S3 (a plain sink, so the built-in
  ``history`` sink, which is ``trylast``, sees what it saved).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from genmedia import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.provider import Provider
    from genmedia.types import ModelSchema, RunRequest, RunResult

_COMPANIONS = ("s3_endpoint_url", "s3_sidecar")


def _check_target(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from genmedia_s3.target import TargetError, parse

    try:
        parse(value)
    except TargetError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


@hookimpl
def genmedia_add_options(command_name: str) -> list[click.Parameter] | None:
    if command_name not in ("run", "status"):
        return None
    return [
        click.Option(
            ["--save-to"],
            metavar="S3_URI",
            default=None,
            callback=_check_target,
            help=(
                "Stream every media file of the result into S3 (or an S3-compatible store): "
                "s3://BUCKET/KEY with the --download placeholders {index} {name} {ext} "
                "{request_id} {endpoint} {seed}; a value ending in / is a prefix. "
                "Credentials: the standard AWS chain."
                + (" Implies --result." if command_name == "status" else "")
            ),
        ),
        click.Option(
            ["--s3-endpoint-url"],
            metavar="URL",
            default=None,
            help="With --save-to: an S3-compatible endpoint (MinIO, R2 …) instead of AWS.",
        ),
        click.Option(
            ["--s3-sidecar"],
            is_flag=True,
            default=None,
            help="With --save-to: also write KEY.json (provenance: endpoint, request id, "
            "input, its hash, seed, source URL, SHA-256).",
        ),
    ]


@hookimpl
def genmedia_prepare_request(
    request: RunRequest, schema: ModelSchema | None, provider: Provider, ctx: AppContext
) -> None:
    if not request.extra.get("save_to") or request.options.dry_run or not request.options.wait:
        return
    from genmedia_s3.client import S3Settings, check_credentials

    check_credentials(S3Settings.from_sources(request.extra, ctx.settings.plugin_config("s3")))


@hookimpl
def genmedia_handle_result(
    result: RunResult, options: Mapping[str, Any], ctx: AppContext
) -> Mapping[str, Any] | None:
    if not options.get("save_to"):
        stray = [name for name in _COMPANIONS if options.get(name)]
        if stray:
            flags = ", ".join("--" + name.replace("_", "-") for name in stray)
            ctx.warn(f"{flags} only applies together with --save-to; ignored")
        return None
    from genmedia_s3.sink import save_result

    return save_result(ctx, result, options)
