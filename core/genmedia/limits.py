"""Documented limits on what genmedia reads (public helpers; see docs/commands.md#limits).

- text read for a value from ``@file`` or ``-`` (standard input): at most 1 MiB
  (``GENMEDIA_MAX_TEXT_FILE``, e.g. ``8M``, raises it);
- an ``--input FILE.json`` document: at most 32 MiB (``GENMEDIA_MAX_INPUT_FILE``);
- JSON given anywhere (``--input``, an object or array value): at most
  :data:`MAX_JSON_DEPTH` levels deep.

Anything over a limit, a file that is not UTF-8 text, or one holding NUL bytes is a usage
error (exit 2), before anything is sent or recorded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from genmedia.errors import UsageError

KiB = 1024
MiB = 1024 * KiB
TEXT_FILE_ENV = "GENMEDIA_MAX_TEXT_FILE"
INPUT_FILE_ENV = "GENMEDIA_MAX_INPUT_FILE"
DEFAULT_TEXT_FILE = 1 * MiB
DEFAULT_INPUT_FILE = 32 * MiB
MAX_JSON_DEPTH = 64


def parse_size(value: str | None, default: int) -> int:
    """``"8M"``, ``"512k"``, ``"1048576"`` → bytes; empty or unparsable → ``default``."""
    if not value or not value.strip():
        return default
    text = value.strip().lower().removesuffix("b").removesuffix("i")
    scale = {"k": KiB, "m": MiB, "g": 1024 * MiB}.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in "kmg" else text
    try:
        return max(1, int(float(digits) * scale))
    except (ValueError, OverflowError):
        return default


def text_file_limit() -> int:
    return parse_size(os.environ.get(TEXT_FILE_ENV), DEFAULT_TEXT_FILE)


def input_file_limit() -> int:
    return parse_size(os.environ.get(INPUT_FILE_ENV), DEFAULT_INPUT_FILE)


def _too_big(what: str, size: int | None, limit: int, env: str) -> UsageError:
    shown = f"{size} bytes" if size is not None else "more"
    return UsageError(
        f"{what} is too large ({shown}; the limit is {limit} bytes)",
        {"limit_bytes": limit, "size_bytes": size, "hint": f"raise the limit with {env}=<size>"},
    )


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 text (a BOM is dropped); NUL bytes or other encodings are usage errors."""
    if b"\x00" in data:
        raise UsageError(
            f"{what} holds NUL bytes: it is not a text file",
            {"hint": "give media files as URL inputs (they are uploaded), not as @file text"},
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{what} is not UTF-8 text (invalid byte at offset {exc.start})",
            {"hint": "convert it to UTF-8, e.g. iconv -t UTF-8"},
        ) from None


def read_text(path: Path | str, *, what: str, limit: int, env: str = TEXT_FILE_ENV) -> str:
    """The UTF-8 text of ``path``, refused beyond ``limit`` bytes (never read whole first)."""
    try:
        with open(Path(path).expanduser(), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                raise _too_big(what, size, limit, env)
            data = fh.read(limit + 1)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"Cannot read {what}", {"reason": reason}) from None
    if len(data) > limit:  # a pipe or a file that grew: fstat could not tell
        raise _too_big(what, None, limit, env)
    return decode_text(data, what)


def read_stream(stream: IO[str], *, what: str, limit: int, env: str = TEXT_FILE_ENV) -> str:
    """At most ``limit`` characters of a text stream (standard input)."""
    try:
        text = stream.read(limit + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {what}", {"reason": str(exc)}) from None
    if len(text) > limit:
        raise _too_big(what, None, limit, env)
    if "\x00" in text:
        raise UsageError(f"{what} holds NUL bytes: it is not text")
    return text


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def reject_constant(name: str) -> Any:
    """``parse_constant`` for :func:`json.loads`: ``NaN``/``Infinity`` are not JSON (Python
    accepts them; fal and every strict parser refuse them)."""
    raise ValueError(f"{name} is not a JSON value")


def loads_json(text: str, *, what: str) -> Any:
    """``json.loads`` whose every failure is a usage error: syntax, nesting deeper than
    :data:`MAX_JSON_DEPTH`, integers over Python's digit limit, lone surrogates."""
    try:
        value = json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise _too_deep(what) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise UsageError(f"{what} is not usable JSON: {exc}") from None
    check_json_value(value, what=what)
    return value


def check_json_value(value: Any, *, what: str) -> None:
    """Nesting and text checks for a parsed JSON value (see :func:`loads_json`)."""
    if json_depth_exceeds(value):
        raise _too_deep(what)
    if has_lone_surrogate(value):
        raise UsageError(f"{what} holds a lone surrogate (\\udXXX): not valid Unicode text")


def has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _too_deep(what: str) -> UsageError:
    return UsageError(
        f"{what} nests deeper than {MAX_JSON_DEPTH} levels", {"limit": MAX_JSON_DEPTH}
    )
