"""Hook implementations of the routing plugin (imported on every start: stdlib only here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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


@hookimpl(trylast=True)
def genmedia_infer_category(query: str, ctx: AppContext) -> str | None:
    """``genmedia models "a video of a cat"`` searches category text-to-video."""
    from genmedia_routing.category import infer_category

    return infer_category(query)


@hookimpl
def genmedia_config_keys() -> list[Any]:
    """``genmedia config set routing.<modality> ENDPOINT``: one key per known modality."""
    from genmedia.configkeys import ConfigKey
    from genmedia_routing import table
    from genmedia_routing.classify import MODALITIES

    def endpoint(raw: str) -> str:
        value = raw.strip()
        if not value or any(c.isspace() for c in value) or ("/" not in value and ":" not in value):
            raise ValueError("expected an endpoint id such as fal-ai/flux/dev")
        return value

    defaults = table.defaults()
    return [
        ConfigKey(
            f"routing.{modality}",
            ("plugins", "routing", modality),
            endpoint,
            defaults[modality].endpoint_id if modality in defaults else None,
            f'the model `run "a prompt"` picks for {modality}',
        )
        for modality in MODALITIES
    ]
