"""Model schemas kept on disk (namespace ``fal-schemas`` of :mod:`genmedia.cache`).

What is stored is the ``models[]`` entry of ``GET /models?endpoint_id=…&expand=openapi-3.0``
(``endpoint_id``, ``metadata``, ``openapi``), keyed by endpoint id *and* Platform host
(``sandbox`` for the in-process emulator), so the emulator's schemas never stand in for
fal's. The compact :class:`ModelSchema` is
rebuilt from it on each read (a few ms; the document is the stable thing to keep).

Revalidation: a fresh entry (younger than ``schema_ttl``, 24 h by default) is used
without asking; an older one is fetched again. fal's API notes document no ``ETag`` or
``Last-Modified`` on ``GET /models`` and the emulator sends neither, so there is no
conditional request (unconfirmed whether fal's Platform API would answer one). Instead a
run whose input a cached schema rejects fetches it once more before reporting (the core's
``prepare``), and ``--refresh-schema`` skips the cache. When the fetch fails for a reason
other than "not found" or credentials (offline, a 5xx), a stale entry is used with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from genmedia import errors

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.cache import JsonCache
    from genmedia.context import AppContext

NAMESPACE = "fal-schemas"
DEFAULT_TTL = 24 * 3600.0
#: errors after which a stale entry is better than nothing.
_FALLBACK = (errors.NetworkError, errors.RemoteError, errors.RateLimitedError)


def cache_key(endpoint: str, api_base: str) -> str:
    return f"{endpoint}@{api_base}"


def open_cache(ttl: float) -> JsonCache:
    from genmedia.cache import JsonCache

    return JsonCache(NAMESPACE, ttl=ttl)


def cached_entry(
    ctx: AppContext,
    cache: JsonCache,
    key: str,
    fetch: Callable[[], Mapping[str, Any]],
    *,
    refresh: bool,
) -> tuple[Mapping[str, Any], bool]:
    """The model entry for ``key``: (entry, whether it came from the cache)."""
    stored = cache.get(key)
    usable = stored is not None and _is_entry(stored.value)
    if usable and stored is not None and stored.fresh and not refresh:
        return stored.value, True
    try:
        entry = fetch()
    except errors.NotFoundError:
        if stored is not None:
            cache.delete(key)
        raise
    except _FALLBACK as exc:
        if not usable or refresh or stored is None:
            raise
        hours = stored.age / 3600
        ctx.warn(
            f"using the schema cached {hours:.1f} h ago: it could not be refreshed ({exc.message})"
        )
        return stored.value, True
    cache.put(key, dict(entry), scope=key.rsplit("@", 1)[-1])
    return entry, False


def _is_entry(value: Any) -> bool:
    """A model entry as stored: an OpenAPI document with paths or schemas (anything else
    in the file is damage, read as a miss)."""
    if not isinstance(value, Mapping):
        return False
    openapi = value.get("openapi")
    return isinstance(openapi, Mapping) and ("paths" in openapi or "components" in openapi)
