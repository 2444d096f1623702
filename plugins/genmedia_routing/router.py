"""The built-in ``genmedia_route``: classify, then look the modality up in the table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from genmedia import errors
from genmedia.types import Route
from genmedia_routing import table
from genmedia_routing.classify import MODALITIES, classify, refine

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

#: Where a model may read a prompt from, in order of preference (config overrides).
PROMPT_FIELDS = ("prompt", "text", "input")


def route(
    prompt: str | None, inputs: Mapping[str, str], modality: str | None, ctx: AppContext
) -> Route:
    overrides = ctx.settings.plugin_config("routing")
    known = sorted(set(MODALITIES) | set(table.defaults()) | set(overrides))
    if modality is not None:
        modality = modality.strip().lower()
        if modality not in known:
            raise errors.UsageError(
                f"Unknown --route {modality!r}",
                {"choices": known, "hint": "genmedia run PROMPT --route video"},
            )
        modality, from_prompt, reason = refine(modality, inputs), False, "--route"
    else:
        found = classify(prompt, inputs)
        modality, from_prompt, reason = found.modality, found.from_prompt, found.reason
    entry, warning = table.lookup(modality, overrides)
    if warning:
        ctx.warn(warning)
    if entry is None:
        raise errors.UsageError(
            f"No model is set for {modality} runs: name an endpoint",
            {
                "modality": modality,
                "hint": f"genmedia config set routing.{modality} ENDPOINT, or "
                f'genmedia run ENDPOINT ... (genmedia models "{modality}" finds one)',
            },
        )
    field = entry.prompt_field
    if entry.source == "config":
        field = _prompt_field(ctx, entry.endpoint_id, field)
    return Route(modality, entry.endpoint_id, entry.source, from_prompt, reason, field)


def _prompt_field(ctx: AppContext, endpoint_id: str, fallback: str | None) -> str | None:
    """A configured model reads the prompt from the first of :data:`PROMPT_FIELDS` its
    schema has (best effort: without a schema the shipped row's field is used)."""
    try:
        provider = ctx.resolve_provider(endpoint_id)
        schema = ctx.pm.hook.genmedia_get_schema(
            endpoint_id=endpoint_id, provider=provider, ctx=ctx, refresh=False
        )
    except errors.GenmediaError:
        return fallback
    if schema is None or not schema.input:
        return fallback
    names = {f.name for f in schema.input}
    return next((name for name in PROMPT_FIELDS if name in names), fallback)
