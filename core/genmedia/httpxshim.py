"""``import httpx`` without httpx's command-line client (rich, pygments, click's help).

httpx's ``__init__`` runs ``from ._main import main`` for its ``httpx`` console script,
and ``httpx._main`` imports rich (its console, syntax highlighting, progress) and pygments
at once: about 15 % of a whole ``genmedia run``, for a command genmedia never uses.

:func:`install` (called when the ``genmedia`` package is imported, before anything can
import httpx) adds a finder to ``sys.meta_path`` that waits for the first ``import
httpx``: it then removes itself and puts a small stand-in module in
``sys.modules["httpx._main"]`` (nothing is visible before httpx is imported). httpx's
``__init__`` takes its ``main`` from the stand-in, a function that loads the real
``httpx._main`` on first call, so ``httpx.main()`` still works in a genmedia process. If
httpx is already imported, nothing is done. Only this mechanism of httpx is relied on
(``from ._main import main``, httpx 0.23 to 0.28 at least);
``tests/core/test_httpxshim.py`` fails if an upgrade changes it — rich or pygments
imported by ``import httpx`` again, or ``httpx.main`` no longer the real client.
"""

from __future__ import annotations

import sys
import types
from typing import Any

NAME = "httpx._main"


def _main(*args: Any, **kwargs: Any) -> Any:
    """httpx's command-line client, imported now (the stand-in steps aside first)."""
    import importlib

    if getattr(sys.modules.get(NAME), "__genmedia_stand_in__", False):
        del sys.modules[NAME]
    real: Any = importlib.import_module(NAME)
    package = sys.modules.get("httpx")
    if package is not None and getattr(package, "main", None) is _main:
        setattr(package, "main", real.main)  # noqa: B010 (a module attribute)
    return real.main(*args, **kwargs)


def install() -> None:
    """Arrange for the stand-in to be registered when httpx is first imported (unless httpx
    or its ``_main`` is already imported)."""
    if "httpx" in sys.modules or NAME in sys.modules:
        return
    if not any(isinstance(finder, _OnHttpxImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OnHttpxImport())


class _OnHttpxImport:
    """A ``sys.meta_path`` finder that finds nothing: on the first lookup of ``httpx`` it
    registers the stand-in and steps out of the way."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "httpx":
            try:
                sys.meta_path.remove(self)
            except ValueError:
                pass
            if NAME not in sys.modules:
                stand_in = types.ModuleType(NAME, "genmedia's stand-in for httpx's command line")
                stand_in.main = _main  # type: ignore[attr-defined]
                stand_in.__genmedia_stand_in__ = True  # type: ignore[attr-defined]
                sys.modules[NAME] = stand_in
        return None
