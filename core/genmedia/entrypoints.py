"""Entry points of group ``genmedia``, with a start-up cache.

``importlib.metadata`` costs about 30 ms to import here — more than the whole budget of
``genmedia --help`` above the click + pluggy floor. Its answer changes only when packages
are installed or removed, and every install or removal adds or deletes a ``.dist-info``
directory inside a ``sys.path`` directory, which changes that directory's mtime. So the
answer is cached in the user cache directory, keyed by ``sys.path`` and the mtimes of its
directories; any change of either falls back to ``importlib.metadata`` and rewrites the
cache. ``GENMEDIA_NO_PLUGIN_CACHE=1`` bypasses the cache.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

CACHE_VERSION = 1


class EntryPointInfo(NamedTuple):
    name: str
    value: str
    distribution: str | None
    version: str | None

    def load(self) -> Any:
        """Import ``module[:attr.path]`` the way ``importlib.metadata.EntryPoint.load`` does."""
        module_name, _, attr = self.value.partition(":")
        obj: Any = importlib.import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def _fingerprint(paths: list[str]) -> list[list[Any]]:
    stamps: list[list[Any]] = []
    for entry in paths:
        try:
            stamps.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            stamps.append([entry, None])
    return stamps


def _cache_file() -> Path | None:
    if os.environ.get("GENMEDIA_NO_PLUGIN_CACHE"):
        return None
    home = os.environ.get("GENMEDIA_HOME")
    if home:
        return Path(home).expanduser() / "cache" / "entry-points.json"
    import platformdirs

    return Path(platformdirs.user_cache_dir("genmedia")) / "entry-points.json"


def scan(group: str) -> list[EntryPointInfo]:
    """Ask importlib.metadata (the slow, authoritative way)."""
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=group):
        dist = getattr(ep, "dist", None)
        found.append(
            EntryPointInfo(
                ep.name,
                ep.value,
                dist.metadata["Name"] if dist is not None else None,
                dist.version if dist is not None else None,
            )
        )
    return found


def entry_points(group: str, path: list[str]) -> list[EntryPointInfo]:
    """The entry points of ``group`` visible on ``path`` (normally ``sys.path``)."""
    cache = _cache_file()
    key = {"version": CACHE_VERSION, "group": group, "path": _fingerprint(path)}
    if cache is not None:
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("key") == key:
                return [EntryPointInfo(*row) for row in data["entry_points"]]
        except (OSError, ValueError, TypeError, KeyError):
            pass
    found = scan(group)
    if cache is not None:
        _write(cache, {"key": key, "entry_points": [list(ep) for ep in found]})
    return found


def _write(path: Path, data: dict[str, Any]) -> None:
    """Best effort, atomic: a read-only or full disk only costs the next start its speed."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".entry-points.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass
