"""The width of help text, without the import click would make for it.

click's ``HelpFormatter`` asks ``shutil.get_terminal_size`` for the width when the context
has none, and importing shutil (with the bz2, lzma and zlib modules it loads) is about 5 %
of ``genmedia --help``. :class:`HelpWidthContext` (the root group's context class) sets the
width up front with the same rule; subcommands' contexts inherit it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click


def help_width(max_width: int | None = None) -> int:
    """click's help width: the terminal's columns (``COLUMNS``, then the terminal, else 80,
    as ``shutil.get_terminal_size`` finds them), at most ``max_width`` (default 80), minus
    2, at least 50."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(min(columns or 80, max_width or 80) - 2, 50)


class HelpWidthContext(click.Context):
    """A click context whose ``terminal_width`` is set (see :func:`help_width`) unless the
    caller or a parent context gave one, or click's test runner forces a width."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.terminal_width is None and click.formatting.FORCED_WIDTH is None:
            self.terminal_width = help_width(self.max_content_width)
