"""Hook implementations of the routing plugin (imported on every start: stdlib only here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from genmedia import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import Route


@hookimpl(trylast=True)
def genmedia_route(
    prompt: str | None, inputs: Mapping[str, str], modality: str | None, ctx: AppContext
) -> Route | None:
    from genmedia_routing.router import route

    return route(prompt, inputs, modality, ctx)
