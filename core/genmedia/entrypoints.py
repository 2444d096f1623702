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
import marshal
import os
import sys
from typing import Any, NamedTuple

# marshal (a builtin: no import cost, unlike json) is Python-version specific, so the
# version is part of the file name; so is the environment (``sys.prefix``): every venv has
# its own file, so that several environments in use at once (a project venv, pipx, CI
# jobs sharing a home) do not keep evicting each other's keys. The key inside guards
# everything else.
CACHE_VERSION = 3
MAX_KEYS = 4


def _fnv1a(text: str) -> str:
    """A stable short digest (``hash()`` is salted per process; hashlib costs an import)."""
    value = 0x811C9DC5
    for byte in text.encode("utf-8", "surrogateescape"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


CACHE_NAME = (
    f"entry-points-{sys.version_info[0]}.{sys.version_info[1]}-{_fnv1a(sys.prefix)}.marshal"
)


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


def _fingerprint(paths: list[str]) -> tuple[tuple[str, int | None], ...]:
    stamps: list[tuple[str, int | None]] = []
    for entry in paths:
        try:
            stamps.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamps.append((entry, None))
    return tuple(stamps)


def _cache_file() -> str | None:
    """Where the cache lives: the same user cache directory as ``Settings.cache_dir``."""
    if os.environ.get("GENMEDIA_NO_PLUGIN_CACHE"):
        return None
    cache_dir = os.environ.get("GENMEDIA_CACHE_DIR")
    if cache_dir:
        return os.path.join(os.path.expanduser(cache_dir), CACHE_NAME)
    home = os.environ.get("GENMEDIA_HOME")
    if home:
        return os.path.join(os.path.expanduser(home), "cache", CACHE_NAME)
    if sys.platform.startswith("linux"):
        # platformdirs' rule on Linux, without its ~5 ms import on every start.
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return os.path.join(base, "genmedia", CACHE_NAME)
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("genmedia"), CACHE_NAME)


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
    key = (CACHE_VERSION, group, _fingerprint(path))
    entries: list[tuple[Any, Any]] = []
    if cache is not None:
        try:
            with open(cache, "rb") as fh:
                entries = list(marshal.load(fh))
            for stored_key, rows in entries:
                if stored_key == key:
                    return [EntryPointInfo(*row) for row in rows]
        except (OSError, ValueError, TypeError, EOFError):
            entries = []
    found = scan(group)
    if cache is not None:
        # Keep a few keys: `genmedia` and `python -m genmedia` see different sys.path[0].
        fresh = (key, tuple(tuple(ep) for ep in found))
        _write(cache, tuple([fresh, *entries][:MAX_KEYS]))
    return found


def _write(path: str, data: Any) -> None:
    """Best effort, atomic: a read-only or full disk only costs the next start its speed."""
    import tempfile

    try:
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".entry-points.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            marshal.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass
