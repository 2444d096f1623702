"""genmedia: run generative-media models end to end, with pluggy plugins.

The public surface for plugin authors is re-exported here lazily, so that
``import genmedia`` stays cheap for ``genmedia --version``:

- :data:`hookimpl` marks hook implementations;
- :mod:`genmedia.types` holds the attrs data model;
- :mod:`genmedia.errors` the exception classes and exit codes;
- :mod:`genmedia.http` the shared client helpers and the retry helper;
- :mod:`genmedia.output` rendering helpers.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Marks a function as an implementation of a genmedia hook.
hookimpl = pluggy.HookimplMarker("genmedia")

__all__ = ["__version__", "hookimpl"]
