"""The raw command line, before click parses it (helpers of :mod:`genmedia.cli`).

Global options are accepted anywhere before ``--`` (they are moved to the front), blocked
plugins are known before any plugin loads (``--disable-plugin``), and arguments that are
not UTF-8 text are refused before they reach a service or a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext

#: ``click.Context.meta`` key: ``--json`` was seen (for errors before the group parsed it).
JSON_META = "genmedia.json"


def check_argv(argv: Sequence[str], app: AppContext) -> None:
    """Arguments must be text: bytes that are not UTF-8 reach Python as lone surrogates,
    which would be sent to the service (or written to the journal) as garbage."""
    for position, arg in enumerate(argv, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            from genmedia.errors import UsageError

            # refused before parsing: take the output flags from the raw arguments
            head = before_dashdash(argv)
            app.json_flag = app.json_flag or "--json" in head
            app.events = app.events or "--events" in head

            raise UsageError(
                f"Argument {position} is not valid UTF-8 text",
                {
                    "position": position,
                    "hint": "genmedia takes UTF-8 arguments (check the locale, e.g. LANG=C.UTF-8)",
                },
            ) from None


def before_dashdash(args: Sequence[str]) -> list[str]:
    """The tokens before ``--`` (all of them when there is none)."""
    return list(args[: args.index("--")] if "--" in args else args)


def global_option_table(group: click.Command) -> dict[str, bool]:
    """Every global option string of ``group`` → whether it takes a value (eager options
    such as ``--version`` and ``--help`` are actions, not global options)."""
    table: dict[str, bool] = {}
    for param in group.params:
        if isinstance(param, click.Option) and not param.is_eager:
            takes_value = not (param.is_flag or param.count)
            for name in (*param.opts, *param.secondary_opts):
                table[name] = takes_value
    return table


def split_global_options(args: list[str], table: dict[str, bool]) -> tuple[list[str], list[str]]:
    """``(global option tokens, everything else)``; tokens after ``--`` are never global."""
    from genmedia.errors import UsageError

    head = before_dashdash(args)
    found: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(head):
        token = head[i]
        name, eq, _value = token.partition("=")
        if token in table:
            found.append(token)
            if table[token]:
                if i + 1 >= len(head):
                    raise UsageError(
                        f"Option '{token}' requires a value",
                        {"option": token, "hint": f"{token} VALUE (or {token}=VALUE)"},
                    )
                found.append(head[i + 1])
                i += 1
        elif eq and table.get(name):
            found.append(token)
        else:
            rest.append(token)
        i += 1
    return found, rest + args[len(head) :]


def prescan_disabled(head: list[str]) -> tuple[str, ...]:
    """The ``--disable-plugin`` names of the raw tokens (before plugins load)."""
    names = []
    for i, token in enumerate(head):
        if token == "--disable-plugin" and i + 1 < len(head):
            names.append(head[i + 1])
        elif token.startswith("--disable-plugin="):
            names.append(token.split("=", 1)[1])
    return tuple(names)


def flag_pairs(tokens: Sequence[str], *, hint: str) -> list[tuple[str, str]]:
    """Model inputs written as flags (public helper: ``run``, ``batch``'s matrix):
    ``--name value``, ``--name=value`` and a bare ``--flag`` (= ``"true"``), in order. A
    lone ``--`` is a value; anything else that is not a flag is a usage error with ``hint``."""
    from genmedia.errors import UsageError

    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not (token.startswith("--") and len(token) > 2):
            raise UsageError(f"Unexpected argument: {token!r}", {"hint": hint})
        name, eq, value = token[2:].partition("=")
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if eq:
            pairs.append((name, value))
            i += 1
        elif following is not None and not (following.startswith("--") and len(following) > 2):
            pairs.append((name, following))
            i += 2
        else:
            pairs.append((name, "true"))
            i += 1
    return pairs
