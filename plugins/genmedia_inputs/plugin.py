"""Hook implementations of the inputs plugin: typing and preparing model inputs.

Imported on every CLI start, so the work lives in :mod:`.coerce` and :mod:`.prepare`,
imported when a run needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genmedia import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.provider import Provider
    from genmedia.types import FieldSchema, ModelSchema, RunRequest


@hookimpl
def genmedia_coerce_argument(
    name: str, raw: str, field: FieldSchema | None, ctx: AppContext
) -> Any:
    from genmedia_inputs.coerce import coerce_argument

    return coerce_argument(name, raw, field, ctx)


@hookimpl
def genmedia_prepare_request(
    request: RunRequest, schema: ModelSchema | None, provider: Provider, ctx: AppContext
) -> None:
    from genmedia_inputs.prepare import prepare_request

    prepare_request(request, schema, provider, ctx)
