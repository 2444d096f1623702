"""Where a batch's jobs come from, read as a stream (never all loaded):

* **JSONL** (``.jsonl``, ``.ndjson``, or ``-`` starting with ``{``): one job per line,
  ``{"endpoint_id": ..., "input": {...}, "id": "optional user key"}``; blank lines and
  lines starting with ``#`` are skipped. The line number is the file's.
* **CSV** (``.csv``, or ``--format csv``): a header of input names, one job per row;
  an ``endpoint_id`` (or ``endpoint``) column or ``--endpoint``; an ``id`` column for user
  keys; an empty cell leaves the input out. Values are typed by the model's schema, as
  flags are.
* **A matrix**: ``ENDPOINT --prompt @prompts.txt --seed 1..4 --num_images 1``, the
  cartesian product of the flags' values: ``@FILE`` gives one value per non-empty line,
  ``A..B`` the integers A to B; any other value is one value. The line is the job's
  1-based position in the product (the last flag varies fastest).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from genmedia import errors
from genmedia.limits import loads_json

RANGE_LIMIT = 100_000


@attrs.frozen
class JobSpec:
    """One job as read: typed ``input`` (JSONL) and/or ``raw_args`` (strings to type by the
    schema, from CSV cells or matrix flags)."""

    line: int
    key: str | None
    endpoint_id: str
    input: dict[str, Any] = attrs.field(factory=dict)
    raw_args: tuple[tuple[str, str], ...] = ()


def bad_line(line: int, message: str, **details: Any) -> errors.UsageError:
    return errors.UsageError(
        f"Line {line}: {message}",
        {"line": line, **details, "hint": "nothing was submitted; fix the line and run again"},
    )


def detect_format(source: str, forced: str | None, stdin: IO[str]) -> tuple[str, IO[str]]:
    """``jsonl`` or ``csv`` and the open text stream."""
    if source == "-":
        stream: IO[str] = stdin
        if forced:
            return forced, stream
        try:
            first = stream.read(1)
            while first and first.isspace():
                first = stream.read(1)
        except UnicodeDecodeError:
            raise bad_line(1, "not UTF-8 text", field=None) from None
        rest = _Prepend(first, stream)
        return ("jsonl" if first in ("{", "#", "") else "csv"), rest  # type: ignore[return-value]
    path = Path(source)
    try:
        stream = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise errors.UsageError(
            f"Cannot read the batch file {source!r}: {exc.strerror or exc}", {"path": source}
        ) from None
    if forced:
        return forced, stream
    return ("csv" if path.suffix.lower() in (".csv", ".tsv") else "jsonl"), stream


class _Prepend:
    """A text stream with the sniffed first character put back."""

    def __init__(self, head: str, stream: IO[str]) -> None:
        self.head, self.stream = head, stream

    def __iter__(self) -> Iterator[str]:
        first = self.stream.readline()
        yield self.head + first
        yield from self.stream

    def close(self) -> None:
        pass


def text_lines(stream: Any) -> Iterator[str]:
    """The stream's lines; bytes that are not UTF-8 are a usage error naming the line."""
    lines = iter(stream)
    number = 0
    while True:
        number += 1
        try:
            line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise bad_line(number, "not UTF-8 text", field=None) from None
        yield line


def read_jsonl(stream: Any) -> Iterator[JobSpec]:
    for number, text in enumerate(text_lines(stream), start=1):
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        try:  # every refusal a usage error: syntax, NaN, depth, huge integers, surrogates
            doc = loads_json(text, what="the job")
        except errors.UsageError as exc:
            raise bad_line(number, exc.message, field=None) from None
        if not isinstance(doc, dict):
            raise bad_line(number, "a job is a JSON object", field=None)
        unknown = sorted(set(doc) - {"endpoint_id", "input", "id"})
        if unknown:
            raise bad_line(
                number, f"unknown key {unknown[0]!r} (a job has endpoint_id, input, id)",
                field=unknown[0],
            )  # fmt: skip
        endpoint = doc.get("endpoint_id")
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise bad_line(number, "endpoint_id is missing", field="endpoint_id")
        payload = doc.get("input", {})
        if not isinstance(payload, dict):
            raise bad_line(number, "input must be a JSON object", field="input")
        key = doc.get("id")
        if key is not None and not isinstance(key, (str, int)):
            raise bad_line(number, "id must be a string", field="id")
        yield JobSpec(number, None if key is None else str(key), endpoint.strip(), payload)


def read_csv(stream: Any, endpoint: str | None) -> Iterator[JobSpec]:
    reader = csv.reader(text_lines(stream))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise bad_line(1, f"unreadable CSV ({exc})", field=None) from None
    names = [h.strip() for h in header]
    if "" in names or len(set(names)) != len(names):
        raise bad_line(1, "the header needs distinct, non-empty column names", field=None)
    endpoint_col = next((n for n in ("endpoint_id", "endpoint") if n in names), None)
    if endpoint_col is None and not endpoint:
        raise bad_line(1, "no endpoint_id column and no --endpoint", field="endpoint_id")
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise bad_line(number, f"{len(row)} cells for {len(names)} columns", field=None)
            cells = dict(zip(names, row, strict=True))
            ep = (cells.pop(endpoint_col, "") if endpoint_col else "").strip() or endpoint
            if not ep:
                raise bad_line(number, "endpoint_id is empty", field="endpoint_id")
            key = cells.pop("id", "").strip() or None
            raw = tuple((k, v) for k, v in cells.items() if v != "")
            yield JobSpec(number, key, ep, {}, raw)
    except csv.Error as exc:
        raise bad_line(reader.line_num, f"unreadable CSV ({exc})", field=None) from None


def expand_value(name: str, raw: str) -> list[str]:
    """One matrix flag's values: ``@FILE`` lines, ``A..B`` integers, or ``raw`` itself."""
    if raw.startswith("@") and len(raw) > 1:
        path = Path(raw[1:]).expanduser()
        try:
            with path.open(encoding="utf-8") as fh:
                values = [text.rstrip("\r\n") for text in fh]
        except OSError as exc:
            raise errors.UsageError(
                f"--{name}: cannot read {raw[1:]!r}: {exc.strerror or exc}",
                {"field": name, "path": raw[1:]},
            ) from None
        values = [v for v in values if v.strip()]
        if not values:
            raise errors.UsageError(f"--{name}: {raw[1:]!r} has no values", {"field": name})
        return values
    low, sep, high = raw.partition("..")
    if sep and _is_int(low) and _is_int(high):
        a, b = int(low), int(high)
        if b < a or b - a >= RANGE_LIMIT:
            raise errors.UsageError(
                f"--{name}: {raw} is not a range A..B with A ≤ B (at most {RANGE_LIMIT})",
                {"field": name},
            )
        return [str(i) for i in range(a, b + 1)]
    return [raw]


def _is_int(text: str) -> bool:
    return text.strip().lstrip("-").isdigit()


def matrix(endpoint: str, args: list[tuple[str, str]]) -> Iterator[JobSpec]:
    """The cartesian product of the flags' values (each occurrence of a flag is an axis)."""
    names = [name for name, _ in args]
    axes = [expand_value(name, raw) for name, raw in args]
    for number, combo in enumerate(itertools.product(*axes), start=1):
        yield JobSpec(number, None, endpoint, {}, tuple(zip(names, combo, strict=True)))


def parse_flags(tokens: list[str]) -> list[tuple[str, str]]:
    """``--name value`` / ``--name=value`` / bare ``--flag`` (``true``) pairs, read as
    ``run`` reads its model inputs."""
    from genmedia.argv import flag_pairs

    return flag_pairs(
        tokens, hint="a matrix is ENDPOINT --name value ...; a file is FILE.jsonl/FILE.csv"
    )
