"""Typing command-line values by the model's schema (``genmedia_coerce_argument``).

- ``@path`` reads a text file (its content is then typed like any value; ``@@…`` is a
  literal ``@…``; an ``@word`` naming no file stays as typed, so prompts such as
  ``"@Image1 dances"`` work). ``-`` reads standard input.
- A field whose schema allows only strings keeps the text as is: a prompt ``123`` stays
  the string ``"123"``.
- integer, number and boolean fields parse the text; enums match their values' text
  (``--duration 8`` → ``8`` when the enum holds the number 8); ``null`` gives JSON null
  for nullable fields; objects and arrays accept JSON; an array field given a plain
  value gets a one-element list (repeat the flag for more).
- A value that does not parse is kept as text: the validation step then reports it with
  the model's own error shape, together with every other problem.
- A name the schema does not have is parsed the way upstream genmedia does
  (true/false, numbers, JSON, else text); validation then rejects the unknown field.
"""

from __future__ import annotations

import json
import math
import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genmedia import errors
from genmedia.hookspecs import JSON_NULL

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import FieldSchema

JsonSchema = dict[str, Any]
#: contexts whose standard input was consumed by a ``-`` value.
_STDIN_USED: weakref.WeakSet[Any] = weakref.WeakSet()


def upstream_parse(raw: str) -> Any:
    """upstream genmedia's parse: booleans, numbers (``Number()``), JSON, else the text."""
    if raw == "true":
        return True
    if raw == "false":
        return False
    stripped = raw.strip()
    if stripped:
        number = parse_number(stripped)
        if number is not None:
            return number
    value = _json_or_none(raw)
    return raw if value is _NOT_JSON else value


_NOT_JSON = object()


def _json_or_none(text: str) -> Any:
    """JSON text → its value; text that is not JSON → ``_NOT_JSON`` (it stays text). JSON
    that nests too deep is a usage error (:mod:`genmedia.limits`)."""
    from genmedia import limits

    try:
        value = json.loads(text, parse_constant=limits.reject_constant)
    except RecursionError:
        raise errors.UsageError(
            f"A JSON value nests deeper than {limits.MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError:
        return _NOT_JSON
    limits.check_json_value(value, what="A JSON value")
    return value


def parse_number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return (
        int(value) if value.is_integer() and "e" not in text.lower() and "." not in text else value
    )


def expand_source(raw: str, ctx: AppContext, name: str | None = None) -> str:
    """``@path`` → the file's text; ``@@x`` → ``@x``; ``-`` → standard input.

    A missing ``@file`` is a validation error (exit 5) of field ``name``: the same error
    and exit code as a missing file given without ``@`` for a file input.
    """
    from genmedia import limits
    from genmedia.files import is_file

    if raw == "-":
        if ctx in _STDIN_USED:
            raise errors.UsageError("Standard input ('-') can be used for one value only")
        _STDIN_USED.add(ctx)
        return _chomp(
            limits.read_stream(ctx.stdin, what="standard input", limit=limits.text_file_limit())
        )
    if raw.startswith("@@"):
        return raw[1:]
    if raw.startswith("@") and len(raw) > 1:
        path = Path(raw[1:]).expanduser() if "\x00" not in raw else None
        if path is not None and is_file(path):
            text = limits.read_text(path, what=_shorten(raw), limit=limits.text_file_limit())
            return _chomp(text)
        if path is not None and _looks_like_path(raw[1:]):
            # "@promt.txt" with a typo must not become the literal prompt of a paid run
            from genmedia_inputs.prepare import local_validation_error

            try:
                shown = str(path.resolve())
            except (OSError, RuntimeError):
                shown = os.path.abspath(path)
            message = f"File not found: {_shorten(shown, 200)}"
            issue = {
                "field": name or "body",
                "message": message + " (give an http(s) URL or an existing local file)",
                "type": "file_not_found",
                "input": raw,
            }
            hint = "write @@text to send a value starting with '@'"
            raise local_validation_error(None, [issue], message=message, hint=hint)
    return raw


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like_path(text: str) -> bool:
    """``dir/file``, ``./x``, ``~/x`` or ``name.ext`` (a short alphanumeric extension);
    ``@someone`` or ``@ 5pm`` stay text."""
    if " " in text:
        return False
    if "/" in text or text.startswith("~"):
        return True
    stem, dot, ext = text.rpartition(".")
    return bool(dot and stem and 1 <= len(ext) <= 5 and ext.isalnum())


def _chomp(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


# --------------------------------------------------------------------------- by schema


def branches(schema: JsonSchema) -> tuple[list[JsonSchema], bool]:
    """Non-null alternatives of a (resolved) schema, and whether null is allowed."""
    nullable = bool(schema.get("nullable"))
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            out: list[JsonSchema] = []
            for option in options:
                if isinstance(option, dict):
                    sub, sub_null = branches(option)
                    out.extend(sub)
                    nullable = nullable or sub_null
            return out, nullable
    typ = schema.get("type")
    if isinstance(typ, list):
        rest = [t for t in typ if t != "null"]
        return [{**schema, "type": t} for t in rest], nullable or "null" in typ
    if typ == "null":
        return [], True
    return [schema], nullable


def kind_of(branch: JsonSchema) -> str:
    typ = branch.get("type")
    if isinstance(typ, str):
        return typ
    if "enum" in branch or "const" in branch:
        return "enum"
    if "properties" in branch:
        return "object"
    return "any"


def coerce_value(raw: str, schema: JsonSchema) -> Any:
    """Type ``raw`` for ``schema`` (resolved JSON schema); unparsable text stays text."""
    options, nullable = branches(schema)
    if raw == "null" and nullable:
        return JSON_NULL
    if not options:
        return upstream_parse(raw)
    kinds = [kind_of(b) for b in options]
    # Enum values first: "8" → 8 when an enum holds the number 8.
    for branch in options:
        values = branch.get("enum") if isinstance(branch.get("enum"), list) else None
        if values is None and "const" in branch:
            values = [branch["const"]]
        for value in values or ():
            if not isinstance(value, str) and value is not None and _text(value) == raw:
                return value
    if all(k == "string" for k in kinds):
        return raw
    stripped = raw.strip()
    if stripped[:1] in ("{", "[") and any(k in ("object", "array", "any") for k in kinds):
        value = _json_or_none(stripped)
        if value is not _NOT_JSON:
            return value
    for branch, kind in zip(options, kinds, strict=True):
        if kind == "integer":
            try:
                return int(stripped)
            except ValueError:
                number = parse_number(stripped)
                if isinstance(number, float) and number.is_integer():
                    return int(number)
        elif kind == "number":
            number = parse_number(stripped)
            if number is not None:
                return number
        elif kind == "boolean":
            low = stripped.lower()
            if low in ("true", "1", "yes", "on"):
                return True
            if low in ("false", "0", "no", "off"):
                return False
        elif kind == "array":
            items = branch["items"] if isinstance(branch.get("items"), dict) else {}
            value = coerce_value(raw, items)
            return [None if value is JSON_NULL else value]
        elif kind == "any":
            return upstream_parse(raw)
    if "string" in kinds or "enum" in kinds:
        return raw
    return raw  # the validator reports the type error


def _text(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def coerce_argument(name: str, raw: str, field: FieldSchema | None, ctx: AppContext) -> Any:
    text = expand_source(raw, ctx, name)
    if field is None:
        return upstream_parse(text)
    schema = field.schema or _schema_from_field(field)
    return coerce_value(text, schema)


def _schema_from_field(field: FieldSchema) -> JsonSchema:
    """A JSON schema rebuilt from a FieldSchema (providers that leave ``schema`` empty)."""
    out: list[JsonSchema] = []
    for part in field.type.split("|"):
        if part.startswith("array<"):
            inner = part[6:-1]
            out.append({"type": "array", "items": {"type": inner} if inner != "unknown" else {}})
        elif part != "unknown":
            out.append({"type": part})
    schema: JsonSchema = {"anyOf": out} if len(out) > 1 else (out[0] if out else {})
    if field.enum:
        schema = {**schema, "enum": field.enum}
    if field.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema
