"""Shell completion data: endpoint ids and model input names, offline and fast.

Pressing TAB must never touch the network, so completion reads only what is on disk:

1. the completion cache, ``completion.json`` in the cache directory: every endpoint id that
   ``genmedia models`` listed and the input names that ``genmedia schema`` and
   ``genmedia run ENDPOINT --help`` loaded (the last :data:`MAX_ENDPOINTS` endpoints);
2. what plugins know offline (the ``genmedia_offline_catalog`` hook): the built-in sandbox
   plugin returns its bundled catalogue, so completion works before the first ``models``
   call.

Writing the cache never fails a command: an unwritable cache directory is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

CACHE_NAME = "completion.json"
MAX_ENDPOINTS = 5000


def cache_path() -> Path:
    from genmedia.config import default_dirs

    return default_dirs()[2] / CACHE_NAME


def _read(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    endpoints = data.get("endpoints") if isinstance(data, dict) else None
    if not isinstance(endpoints, dict):
        return {}
    return {
        str(k): [str(n) for n in v] if isinstance(v, list) else [] for k, v in endpoints.items()
    }


def remember(endpoints: Iterable[str] = (), inputs: dict[str, list[str]] | None = None) -> None:
    """Add endpoint ids (and, per endpoint, input names) to the completion cache."""
    path = cache_path()
    try:
        known = _read(path)
        before = dict(known)
        for endpoint in endpoints:
            known.setdefault(endpoint, [])
        for endpoint, names in (inputs or {}).items():
            known[endpoint] = list(names)
        if known == before:
            return
        if len(known) > MAX_ENDPOINTS:  # keep the newest (dicts keep insertion order)
            known = dict(list(known.items())[-MAX_ENDPOINTS:])
        from genmedia.files import atomic_write

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps({"endpoints": known}, sort_keys=True) + "\n", mode=0o600)
    except OSError:
        pass


def _offline_catalog(app: AppContext | None) -> dict[str, list[str]]:
    """Every plugin's ``genmedia_offline_catalog`` merged ({} without an app)."""
    if app is None or os.environ.get("GENMEDIA_COMPLETION_NO_BUNDLED"):
        return {}
    found: dict[str, list[str]] = {}
    try:
        results = app.pm.hook.genmedia_offline_catalog()
    except Exception:  # a TAB press must never print a traceback
        return {}
    for catalog in results:
        for endpoint_id, names in (catalog or {}).items():
            found.setdefault(str(endpoint_id), [str(n) for n in names])
    return found


def endpoint_ids(app: AppContext | None, incomplete: str = "") -> list[str]:
    """Known endpoint ids starting with ``incomplete`` (cache, then plugins' catalogues)."""
    ids = dict.fromkeys(_read(cache_path()))
    ids.update(dict.fromkeys(_offline_catalog(app)))
    return sorted(e for e in ids if e.startswith(incomplete))


def input_names(app: AppContext | None, endpoint_id: str) -> list[str]:
    """The model input names of ``endpoint_id`` known offline ([] when none are)."""
    names = _read(cache_path()).get(endpoint_id)
    if names:
        return names
    return _offline_catalog(app).get(endpoint_id, [])
