"""``genmedia cache path|list|clear``: what genmedia keeps in its cache directory.

The cache directory holds :mod:`genmedia.cache` namespaces (``fal-schemas``: model
schemas; ``webhooks``: fal's webhook signing keys), plus the shell-completion list and the
plugin entry-point index at its top. ``list`` and ``clear`` work on the namespaces only:
everything in them is fetched again when needed; the completion list is not refetched, so
it stays (delete ``completion.json`` to forget it).
"""

from __future__ import annotations

from typing import Any

import attrs
import click

from genmedia import errors
from genmedia.cli import get_app
from genmedia.output import emit


@attrs.frozen
class CachedItem:
    """One entry as ``cache list`` prints it."""

    namespace: str
    key: str
    stored_at: str
    age_s: int
    size_bytes: int
    scope: str | None = None
    path: str | None = None


@attrs.frozen
class CacheListing:
    cache_dir: str
    entries: list[CachedItem]


@attrs.frozen
class CacheCleared:
    cache_dir: str
    removed: int
    namespaces: list[str]


@click.group()
def cache() -> None:
    """Show and empty genmedia's cache (model schemas, webhook keys)."""


@cache.command("path")
def path() -> None:
    """Print the cache directory ($GENMEDIA_CACHE_DIR to move it)."""
    from genmedia.cache import cache_root

    app = get_app(click.get_current_context())
    emit(app, {"cache_dir": str(cache_root())}, pretty=lambda doc, c: c.print(doc["cache_dir"]))


def _chosen(namespace: str | None) -> list[str]:
    from genmedia.cache import namespaces

    found = namespaces()
    if namespace is None:
        return found
    if namespace not in found:
        return []
    return [namespace]


@cache.command("list")
@click.argument("namespace", required=False)
def list_(namespace: str | None) -> None:
    """List cached entries (of one NAMESPACE, e.g. fal-schemas), newest first."""
    import time

    from genmedia.cache import JsonCache, cache_root

    app = get_app(click.get_current_context())
    items = []
    for name in _chosen(namespace):
        for entry in JsonCache(name, ttl=float("inf")).entries():
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry.stored_at))
            items.append(
                CachedItem(
                    namespace=name,
                    key=entry.key,
                    stored_at=stamp,
                    age_s=int(entry.age),
                    size_bytes=entry.size_bytes,
                    scope=entry.scope,
                    path=str(entry.path) if entry.path else None,
                )
            )
    items.sort(key=lambda i: i.stored_at, reverse=True)
    emit(app, CacheListing(str(cache_root()), items), pretty=_render_list)


def _render_list(doc: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    from genmedia.output import esc

    if not doc["entries"]:
        console.print(f"nothing cached in {esc(doc['cache_dir'])}", markup=True)
        return
    table = Table("namespace", "key", "stored", "size", box=None, show_edge=False)
    for item in doc["entries"]:
        table.add_row(
            esc(item["namespace"]),
            esc(item["key"]),
            esc(item["stored_at"]),
            f"{item['size_bytes'] / 1024:.0f} KiB",
        )
    console.print(table)


@cache.command("clear")
@click.argument("namespace", required=False)
def clear(namespace: str | None) -> None:
    """Remove cached entries (all, or one NAMESPACE); they are fetched again when needed."""
    from genmedia.cache import JsonCache, cache_root, namespaces

    app = get_app(click.get_current_context())
    chosen = _chosen(namespace)
    if namespace is not None and not chosen and namespace not in namespaces():
        try:
            JsonCache(namespace, ttl=0)
        except ValueError:
            raise errors.UsageError(
                f"Invalid cache namespace: {namespace!r}",
                {"hint": "see the namespaces with: genmedia cache list"},
            ) from None
    removed = sum(JsonCache(name, ttl=0).clear() for name in chosen)
    emit(
        app,
        CacheCleared(str(cache_root()), removed, chosen),
        pretty=lambda doc, c: c.print(f"removed {doc['removed']} cached entries"),
    )
