"""Where the sandbox's store lives, and the documented sandbox key (standard library only).

Shared by the ``--sandbox`` hooks (:mod:`.plugin`) and the ``genmedia sandbox`` commands
(:mod:`.commands`); imported by every genmedia command, so it stays this small.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

#: The documented sandbox key (``genmedia --sandbox`` and ``genmedia sandbox env`` use it).
SANDBOX_KEY = "sandbox-key:offline-rehearsal"


def store_home() -> Path:
    """``$GENMEDIA_SANDBOX_HOME``, else ``sandbox/`` in genmedia's data directory."""
    from pathlib import Path

    env = os.environ.get("GENMEDIA_SANDBOX_HOME")
    if env:
        return Path(env).expanduser()
    from genmedia.config import default_dirs

    return default_dirs()[1] / "sandbox"
