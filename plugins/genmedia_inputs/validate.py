"""Local validation of a model input against its schema, before anything is paid for.

Problems come back in upstream genmedia's ``validation_errors`` shape
(``{"field", "message", "type", "input"}``, field paths like ``loras[0].scale``), with
Pydantic's messages and type codes — the same a fal model answers with in a 422 — so a
script handles a local rejection and a remote one alike.

Checked: unknown top-level fields, missing required fields, types (with nullable
``anyOf``), enums/consts, numeric bounds (inclusive and exclusive), string lengths, list
lengths, nested objects and arrays. Not checked: ``format``, ``pattern``, and anything the
model decides at run time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Issue = dict[str, Any]
_MISSING = object()


def field_path(loc: Sequence[Any]) -> str:
    """upstream's path rule: first segment as is, later names ``.name``, indices ``[n]``."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += str(part) if i == 0 else f".{part}"
    return out or "body"


def _issue(loc: Sequence[Any], message: str, kind: str, value: Any = _MISSING) -> Issue:
    item: Issue = {"field": field_path(loc), "message": message, "type": kind}
    if value is not _MISSING:
        item["input"] = value
    return item


def _fmt_enum(values: Sequence[Any]) -> str:
    parts = [repr(v) if isinstance(v, str) else json.dumps(v) for v in values]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


_TYPE_ERRORS = {
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "string": ("string_type", "Input should be a valid string"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "array": ("list_type", "Input should be a valid list"),
    "object": ("dict_type", "Input should be a valid dictionary"),
}
_PARSE_ERRORS = {
    "integer": (
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    "number": (
        "float_parsing",
        "Input should be a valid number, unable to parse string as a number",
    ),
    "boolean": ("bool_parsing", "Input should be a valid boolean, unable to interpret input"),
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "integer":
        return _is_int(value)
    if kind == "number":
        return _is_number(value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    return True


def check(value: Any, schema: Mapping[str, Any], loc: list[Any]) -> list[Issue]:
    """Problems of ``value`` against a resolved JSON schema (``[]`` when valid)."""
    if not isinstance(schema, Mapping) or not schema:
        return []
    if schema.get("nullable") and value is None:
        return []
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            return _check_union(value, [o for o in options if isinstance(o, Mapping)], loc)
    issues: list[Issue] = []
    for part in schema.get("allOf") or ():
        if isinstance(part, Mapping):
            issues += check(value, part, loc)
    if issues:
        return issues
    if "const" in schema and not _same(value, schema["const"]):
        return [
            _issue(loc, f"Input should be {_fmt_enum([schema['const']])}", "literal_error", value)
        ]
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_same(value, v) for v in enum):
        return [_issue(loc, f"Input should be {_fmt_enum(enum)}", "enum", value)]
    typ = schema.get("type")
    kinds = typ if isinstance(typ, list) else [typ] if isinstance(typ, str) else []
    if kinds and not any(_type_ok(k, value) for k in kinds):
        kind = kinds[0]
        if isinstance(value, str) and kind in _PARSE_ERRORS:
            code, message = _PARSE_ERRORS[kind]
        else:
            code, message = _TYPE_ERRORS.get(kind, ("type_error", f"Input should be {kind}"))
        return [_issue(loc, message, code, value)]
    if _is_number(value):
        issues += _bounds(value, schema, loc)
    elif isinstance(value, str):
        issues += _lengths(value, schema, loc, "string")
    elif isinstance(value, list):
        issues += _lengths(value, schema, loc, "list")
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                issues += check(item, items, [*loc, i])
    elif isinstance(value, dict):
        issues += check_object(value, schema, loc)
    return issues


def _check_union(value: Any, options: list[Mapping[str, Any]], loc: list[Any]) -> list[Issue]:
    non_null = [o for o in options if o.get("type") != "null"]
    if value is None and len(non_null) < len(options):
        return []
    results = [check(value, option, loc) for option in non_null]
    if not results or any(not r for r in results):
        return []
    # Report the branch whose type fits the value (a range error beats a type error).
    for option, problems in zip(non_null, results, strict=True):
        typ = option.get("type")
        if isinstance(typ, str) and _type_ok(typ, value):
            return problems
    return results[0]


def _bounds(value: float, schema: Mapping[str, Any], loc: list[Any]) -> list[Issue]:
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    exc_min, exc_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if exc_min is True:  # OpenAPI 3.0's boolean form
        exc_min, minimum = minimum, None
    if exc_max is True:
        exc_max, maximum = maximum, None
    checks: tuple[tuple[Any, str, str], ...] = (
        (minimum, "greater_than_equal", "greater than or equal to"),
        (maximum, "less_than_equal", "less than or equal to"),
        (exc_min, "greater_than", "greater than"),
        (exc_max, "less_than", "less than"),
    )
    for bound, code, words in checks:
        if not _is_number(bound):
            continue
        limit = bound  # exact: Python compares int and float by value, never via float()
        broken = {
            "greater_than_equal": value < limit,
            "less_than_equal": value > limit,
            "greater_than": value <= limit,
            "less_than": value >= limit,
        }[code]
        if broken:
            return [_issue(loc, f"Input should be {words} {bound}", code, value)]
    return []


def _lengths(value: Any, schema: Mapping[str, Any], loc: list[Any], what: str) -> list[Issue]:
    lo_key, hi_key = ("minLength", "maxLength") if what == "string" else ("minItems", "maxItems")
    lo, hi, n = schema.get(lo_key), schema.get(hi_key), len(value)
    if what == "string":
        if isinstance(lo, int) and n < lo:
            s = "s" if lo != 1 else ""
            return [
                _issue(
                    loc, f"String should have at least {lo} character{s}", "string_too_short", value
                )
            ]
        if isinstance(hi, int) and n > hi:
            s = "s" if hi != 1 else ""
            return [
                _issue(
                    loc, f"String should have at most {hi} character{s}", "string_too_long", value
                )
            ]
        return []
    if isinstance(lo, int) and n < lo:
        s = "s" if lo != 1 else ""
        return [
            _issue(
                loc,
                f"List should have at least {lo} item{s} after validation, not {n}",
                "too_short",
                value,
            )
        ]
    if isinstance(hi, int) and n > hi:
        s = "s" if hi != 1 else ""
        return [
            _issue(
                loc,
                f"List should have at most {hi} item{s} after validation, not {n}",
                "too_long",
                value,
            )
        ]
    return []


def check_object(value: dict[str, Any], schema: Mapping[str, Any], loc: list[Any]) -> list[Issue]:
    issues: list[Issue] = []
    raw_props = schema.get("properties")
    props: Mapping[str, Any] = raw_props if isinstance(raw_props, Mapping) else {}
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            issues += check(item, props[key], [*loc, key])
        elif extra is False:
            issues.append(
                _issue([*loc, key], "Extra inputs are not permitted", "extra_forbidden", item)
            )
        elif isinstance(extra, Mapping):
            issues += check(item, extra, [*loc, key])
    for name in schema.get("required") or ():
        if name not in value:
            issues.append(_issue([*loc, name], "Field required", "missing"))
    return issues


def validate_input(
    payload: Mapping[str, Any], fields: Mapping[str, Any], *, allow_extra: bool = False
) -> list[Issue]:
    """Problems of a whole model input. ``fields``: name → FieldSchema (with ``schema``)."""
    issues: list[Issue] = []
    for name, value in payload.items():
        field = fields.get(name)
        if field is None:
            if not allow_extra:
                issues.append(
                    _issue([name], "Extra inputs are not permitted", "extra_forbidden", value)
                )
            continue
        schema = dict(field.schema or {})
        if field.nullable and value is None:
            continue
        issues += check(value, schema, [name])
    for name, field in fields.items():
        if field.required and name not in payload:
            issues.append(_issue([name], "Field required", "missing"))
    return issues


def message_for(issues: list[Issue]) -> str:
    if len(issues) == 1:
        return f"Validation error — {issues[0]['field']}: {issues[0]['message']}"
    return f"Validation error — {len(issues)} problems with the input"
