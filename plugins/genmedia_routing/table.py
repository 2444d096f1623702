"""The routing table: shipped defaults (``defaults.json``) overridden by the config file.

A user overrides one modality with ``genmedia config set routing.video fal-ai/veo3``,
stored in ``config.json`` as ``{"plugins": {"routing": {"video": "fal-ai/veo3"}}}`` and read
through :meth:`genmedia.config.Settings.plugin_config` like every plugin's settings. A value
is an endpoint id, or an object ``{"endpoint_id": …, "prompt_field": …}`` when the model
takes its text under another name (``text`` for most speech models).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import attrs

DEFAULTS_FILE = Path(__file__).with_name("defaults.json")
_UNSET: Any = object()


@attrs.frozen
class Entry:
    """One row: the endpoint for a modality and where the prompt goes (None: nowhere)."""

    modality: str
    endpoint_id: str
    prompt_field: str | None = "prompt"
    source: str = "default"


@cache
def defaults() -> dict[str, Entry]:
    """The shipped table, read once per process."""
    raw = json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return {
        modality: Entry(modality, row["endpoint_id"], row.get("prompt_field", "prompt"))
        for modality, row in raw.items()
        if not modality.startswith("_")
    }


def lookup(modality: str, overrides: dict[str, Any]) -> tuple[Entry | None, str | None]:
    """The entry for ``modality``: the config's override if valid, else the default.

    Returns ``(entry, warning)``; the warning names an override that was ignored.
    """
    shipped = defaults().get(modality)
    value = overrides.get(modality, _UNSET)
    if value is _UNSET or value in (None, ""):
        return shipped, None
    field = shipped.prompt_field if shipped else "prompt"
    endpoint = value
    if isinstance(value, dict):
        endpoint = value.get("endpoint_id")
        field = value.get("prompt_field", field)
    valid_id = isinstance(endpoint, str) and "/" in endpoint and " " not in endpoint.strip()
    if valid_id and (field is None or isinstance(field, str)):
        return Entry(modality, endpoint.strip(), field, "config"), None
    return shipped, (
        f"ignoring routing.{modality} in the config file: expected an endpoint id such as "
        f"owner/model, got {value!r}"
    )
