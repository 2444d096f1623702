"""genmedia_sandbox: a local fal.ai emulator (a real HTTP server) for tests and offline rehearsal.

Public entry points (imported lazily, so ``import genmedia_sandbox`` stays cheap):

- :func:`start_sandbox` and :class:`SandboxServer` (``genmedia_sandbox.server``);
- the pytest fixtures in ``genmedia_sandbox.pytest_plugin``;
- the genmedia hooks in ``genmedia_sandbox.plugin`` (``genmedia sandbox serve``, ``--sandbox``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SandboxServer", "start_sandbox"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
