"""A small on-disk JSON cache for plugins (public): shared safely by many processes.

Entries live in ``<cache dir>/<namespace>/`` (the cache dir is
``Settings.cache_dir``: ``$GENMEDIA_CACHE_DIR``, else ``$GENMEDIA_HOME/cache``, else the
platformdirs user cache directory), one JSON file per key::

    from genmedia.cache import JsonCache

    cache = JsonCache("schemas", ttl=24 * 3600)
    entry = cache.get(key)                    # None: never stored, or damaged
    if entry is None or not entry.fresh:
        cache.put(key, fetch(), scope="https://api.example.com")
    value = cache.get(key).value

Rules every user gets for free:

- a write goes to a temporary file in the same directory, renamed over the entry
  (``os.replace``): a reader sees the old entry or the new one, never half of one;
- a file that cannot be read or parsed (truncated, edited, another version's format) is a
  miss, never an error; so is an entry whose ``key`` does not match (a hash collision);
- writing never fails a command: a read-only or full disk only means no caching;
- ``ttl`` is the age in seconds under which an entry is ``fresh``; a stale entry is still
  returned, so a caller can fall back to it when revalidating fails (offline).

``genmedia cache list|clear|path`` show and empty every namespace (docs/configuration.md).
Files are not fsync-ed: after a crash an entry may be lost or empty, which reads as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

#: the format of an entry file; another value reads as a miss.
FORMAT = 1
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def cache_root() -> Path:
    """genmedia's cache directory (the same as ``Settings.cache_dir``)."""
    from genmedia.config import default_dirs

    return default_dirs()[2]


@attrs.frozen
class CacheEntry:
    """One stored value. ``stored_at`` is a Unix time; ``scope`` says where the value came
    from (e.g. the API host), for display; ``fresh`` compares the age with the cache's TTL."""

    namespace: str
    key: str
    value: Any = attrs.field(repr=False)
    stored_at: float
    scope: str | None = None
    path: Path | None = attrs.field(default=None, eq=False)
    size_bytes: int = 0
    fresh: bool = True

    @property
    def age(self) -> float:
        return max(0.0, time.time() - self.stored_at)


class JsonCache:
    """JSON values by string key under ``<cache dir>/<namespace>/`` (see the module doc)."""

    def __init__(self, namespace: str, *, ttl: float, root: Path | None = None) -> None:
        if not namespace or _SAFE.sub("", namespace) != namespace:
            raise ValueError(f"cache namespace must be [A-Za-z0-9._-]+, not {namespace!r}")
        self.namespace = namespace
        self.ttl = float(ttl)
        self.directory = (root or cache_root()) / namespace

    def path_for(self, key: str) -> Path:
        """The entry file of ``key``: a readable stem plus a hash of the whole key."""
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        stem = _SAFE.sub("_", key)[:80].strip("._") or "entry"
        return self.directory / f"{stem}.{digest}.json"

    def get(self, key: str) -> CacheEntry | None:
        """The entry of ``key`` (fresh or stale), or None on a miss or a damaged file."""
        entry = self._read(self.path_for(key))
        return entry if entry is not None and entry.key == key else None

    def put(self, key: str, value: Any, *, scope: str | None = None) -> bool:
        """Store ``value`` (JSON-able) atomically; False when it could not be written."""
        import tempfile

        doc = {
            "format": FORMAT,
            "key": key,
            "scope": scope,
            "stored_at": time.time(),
            "value": value,
        }
        path = self.path_for(key)
        try:
            data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except (OSError, TypeError, ValueError):
            return False
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        return True

    def delete(self, key: str) -> bool:
        try:
            self.path_for(key).unlink()
        except OSError:
            return False
        return True

    def entries(self) -> Iterator[CacheEntry]:
        """Every readable entry of this namespace (damaged files are skipped)."""
        try:
            paths = sorted(self.directory.glob("*.json"))
        except OSError:
            return
        for path in paths:
            entry = self._read(path)
            if entry is not None:
                yield entry

    def clear(self) -> int:
        """Remove every entry file (and leftover temporary files); returns how many."""
        return _clear_dir(self.directory)

    def _read(self, path: Path) -> CacheEntry | None:
        try:
            data = path.read_bytes()
            doc = json.loads(data)
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or "value" not in doc:
            return None
        key, stored_at, scope = doc.get("key"), doc.get("stored_at"), doc.get("scope")
        if not isinstance(key, str) or isinstance(stored_at, bool):
            return None
        if not isinstance(stored_at, (int, float)) or not isinstance(scope, (str, type(None))):
            return None
        age = time.time() - stored_at
        return CacheEntry(
            namespace=self.namespace,
            key=key,
            value=doc["value"],
            stored_at=float(stored_at),
            scope=scope,
            path=path,
            size_bytes=len(data),
            fresh=0 <= age < self.ttl,
        )


def namespaces(root: Path | None = None) -> list[str]:
    """The namespaces that have a directory under the cache dir."""
    base = root or cache_root()
    try:
        found = [p.name for p in base.iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted(name for name in found if _SAFE.sub("", name) == name)


def _clear_dir(directory: Path) -> int:
    removed = 0
    try:
        paths = list(directory.iterdir())
    except OSError:
        return 0
    for path in paths:
        if path.suffix in (".json", ".tmp") and path.is_file():
            try:
                path.unlink()
            except OSError:
                continue
            removed += path.suffix == ".json"
    return removed
