"""genmedia: run generative-media models end to end, with pluggy plugins.

The public surface for plugin authors is re-exported here lazily, so that
``import genmedia`` stays cheap for ``genmedia --version``:

- :data:`hookimpl` marks hook implementations;
- :mod:`genmedia.types` holds the attrs data model;
- :mod:`genmedia.errors` the exception classes and exit codes;
- :mod:`genmedia.http` the shared client helpers and the retry helper;
- :mod:`genmedia.output` rendering helpers;
- :func:`truthy` reads a yes/no environment value the way every genmedia switch does.
"""

from __future__ import annotations

import pluggy

from genmedia import httpxshim

__version__ = "0.1.0"

# before anything imports httpx: its command-line module (rich, pygments) loads lazily
httpxshim.install()

#: Marks a function as an implementation of a genmedia hook.
hookimpl = pluggy.HookimplMarker("genmedia")


def truthy(value: str | None) -> bool:
    """``1``, ``true``, ``yes`` or ``on`` (any case, surrounding space ignored)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


__all__ = ["__version__", "hookimpl", "truthy"]
