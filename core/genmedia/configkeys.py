"""Keys that ``genmedia config`` can list, get, set and unset (public helpers).

The core declares its own keys; a plugin declares its settings through the
``genmedia_config_keys`` hook, each a :class:`ConfigKey` with a parser that checks a value
typed on the command line and returns what is stored in ``config.json``::

    from genmedia.configkeys import ConfigKey, int_range

    @hookimpl
    def genmedia_config_keys():
        return [ConfigKey("notify.volume", ("plugins", "notify", "volume"), int_range(0, 10),
                          5, "how loud the bell rings")]

A parser raises ``ValueError`` with a short reason for a bad value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen
class ConfigKey:
    """One settable key: where it lives in ``config.json``, how to check it, what it means.

    ``path`` is the key's place in the file (``("plugins", "download", "template")``); a
    plugin's keys live under ``("plugins", <plugin name>, …)``, read back with
    ``Settings.plugin_config(name)``. ``env`` names an environment variable that overrides
    the stored value, when there is one (``config list`` then shows it as the source).
    """

    name: str
    path: tuple[str, ...]
    parse: Callable[[str], Any]
    default: Any
    help: str
    env: str | None = None


def choice(*values: str) -> Callable[[str], str]:
    """One of ``values`` (case-insensitive; stored lower-case)."""

    def check(raw: str) -> str:
        value = raw.strip().lower()
        if value not in values:
            raise ValueError(f"expected one of {', '.join(values)}")
        return value

    return check


def boolean(raw: str) -> bool:
    """``true/false``, ``yes/no``, ``on/off``, ``1/0``."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An integer from ``low`` to ``high`` inclusive."""

    def check(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError("expected an integer") from None
        if not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high}")
        return value

    return check


def url(raw: str) -> str:
    """An ``http://`` or ``https://`` URL (stored without a trailing slash)."""
    value = raw.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("expected an http:// or https:// URL")
    return value


def name(raw: str) -> str:
    """A plain name: letters, digits, ``_ . -``."""
    value = raw.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
        raise ValueError("expected a name (letters, digits, _ . -)")
    return value
