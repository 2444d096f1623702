"""fal OpenAPI documents → :class:`genmedia.types.ModelSchema` (the compact form).

The schemas are found and ``$ref``-resolved by :mod:`genmedia_fal.openapi`.

Each property is resolved through ``$ref``, ``allOf`` (merged), and ``anyOf``/``oneOf``
(``null`` branches make the field ``nullable``; one remaining branch is the field's type,
several make a union ``a|b``), so nested and nullable fields show real types, enums,
defaults, bounds and ``required``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genmedia.types import MISSING, FieldSchema, ModelSchema
from genmedia_fal.openapi import as_map, deref, find_io_schemas

JsonDict = dict[str, Any]

#: ``_fal_ui_field`` values that mark a string as a media URL.
FILE_UI_FIELDS = frozenset(
    {"image", "video", "audio", "file", "image_url", "video_url", "audio_url"}
)


# --------------------------------------------------------------------------- fields


def split_nullable(schema: Mapping[str, Any]) -> tuple[list[JsonDict], bool]:
    """The non-null alternatives of a schema and whether ``null`` is allowed."""
    nullable = bool(schema.get("nullable"))
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            branches: list[JsonDict] = []
            for option in options:
                if not isinstance(option, Mapping):
                    continue
                sub, sub_null = split_nullable(option)
                nullable = nullable or sub_null
                branches.extend(sub)
            return branches, nullable
    typ = schema.get("type")
    if isinstance(typ, list):  # OpenAPI 3.1 / JSON Schema type lists
        nullable = nullable or "null" in typ
        rest = [t for t in typ if t != "null"]
        base = {k: v for k, v in schema.items() if k != "type"}
        return [{**base, "type": t} for t in rest] or [base], nullable
    if typ == "null" or ("const" in schema and schema["const"] is None):
        return [], True
    return [dict(schema)], nullable


def type_name(schema: Mapping[str, Any]) -> str:
    """A readable type for one (non-null) schema branch."""
    typ = schema.get("type")
    if isinstance(typ, str):
        if typ == "array":
            items = schema.get("items")
            if isinstance(items, Mapping) and items:
                branches, _ = split_nullable(items)
                inner = "|".join(dict.fromkeys(type_name(b) for b in branches)) or "unknown"
                return f"array<{inner}>"
            return "array<unknown>"
        return typ
    if "enum" in schema:
        kinds = {_json_type(v) for v in schema["enum"]}
        return kinds.pop() if len(kinds) == 1 else "|".join(sorted(kinds))
    if "const" in schema:
        return _json_type(schema["const"])
    if "properties" in schema:
        return "object"
    return "unknown"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _enum_of(branch: Mapping[str, Any]) -> list[Any] | None:
    if isinstance(branch.get("enum"), list):
        return list(branch["enum"])
    if "const" in branch:
        return [branch["const"]]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _bounds(branch: Mapping[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "minimum": _number(branch.get("minimum")),
        "maximum": _number(branch.get("maximum")),
        "exclusive_minimum": None,
        "exclusive_maximum": None,
    }
    for key, plain, target in (
        ("exclusiveMinimum", "minimum", "exclusive_minimum"),
        ("exclusiveMaximum", "maximum", "exclusive_maximum"),
    ):
        value = branch.get(key)
        if value is True and out[plain] is not None:  # OpenAPI 3.0 boolean form
            out[target], out[plain] = out[plain], None
        elif _number(value) is not None:
            out[target] = value
    return out


def _clean(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    return text or None


def _is_file_string(name: str, branch: Mapping[str, Any], suffix: str) -> bool:
    """A string branch that takes a media URL: ``*_url`` / ``*_urls`` or a fal UI hint."""
    if branch.get("type") not in (None, "string") or "enum" in branch or "const" in branch:
        return False
    ui = branch.get("_fal_ui_field")
    if ui is None and isinstance(branch.get("ui"), Mapping):
        ui = branch["ui"].get("field")
    if isinstance(ui, str) and ui.lower() in FILE_UI_FIELDS:
        return True
    return branch.get("type") == "string" and name.endswith(suffix)


def field_from_property(name: str, prop: Mapping[str, Any], required: bool) -> FieldSchema:
    """One resolved property (``deref`` already applied) → :class:`FieldSchema`."""
    branches, nullable = split_nullable(prop)
    kinds = list(dict.fromkeys(type_name(b) for b in branches)) or ["unknown"]
    enum: list[Any] | None = None
    enums = [_enum_of(b) for b in branches]
    if branches and all(e is not None for e in enums):
        enum = [v for e in enums for v in (e or ())]
    elif "enum" in prop and isinstance(prop["enum"], list):
        enum = [v for v in prop["enum"] if v is not None]
    numeric = [b for b in branches if b.get("type") in ("integer", "number")]
    bounds = _bounds(numeric[0]) if len(numeric) == 1 else _bounds({})
    is_file = any(_is_file_string(name, b, "_url") for b in branches)
    items_is_file = False
    for b in branches:
        items = b.get("items")
        if b.get("type") == "array" and isinstance(items, Mapping):
            for ib in split_nullable(items)[0]:
                if _is_file_string(name, ib, "_urls"):
                    items_is_file = True
    examples = prop.get("examples")
    if not isinstance(examples, list):
        examples = [prop["example"]] if "example" in prop else None
    return FieldSchema(
        name=name,
        type="|".join(kinds),
        required=required,
        description=_clean(prop.get("description")),
        default=prop.get("default", MISSING),
        enum=enum,
        nullable=nullable,
        is_file=is_file,
        items_is_file=items_is_file,
        examples=examples,
        schema=dict(prop),
        **bounds,
    )


def fields_of(doc: Mapping[str, Any], schema: Any) -> list[FieldSchema] | None:
    """The top-level properties of an (unresolved) object schema, in document order."""
    if not isinstance(schema, Mapping):
        return None
    resolved = deref(doc, schema)
    if not isinstance(resolved, Mapping):
        return None
    props = resolved.get("properties")
    if not isinstance(props, Mapping):
        return [] if resolved.get("type") == "object" else None
    required = set(resolved.get("required") or ())
    return [
        field_from_property(n, p if isinstance(p, Mapping) else {}, n in required)
        for n, p in props.items()
    ]


def input_object_schema(doc: Mapping[str, Any], endpoint_id: str | None = None) -> JsonDict | None:
    """The fully resolved input object schema (for validators that want the whole thing)."""
    found, _ = find_io_schemas(doc, endpoint_id)
    resolved = deref(doc, found) if isinstance(found, Mapping) else None
    return resolved if isinstance(resolved, dict) else None


def model_schema(
    endpoint_id: str, openapi: Mapping[str, Any], metadata: Mapping[str, Any] | None = None
) -> ModelSchema:
    """Build the compact :class:`ModelSchema` from an OpenAPI document and model metadata."""
    metadata = metadata or {}
    fal_meta = as_map(as_map(openapi.get("info")).get("x-fal-metadata"))
    found_in, found_out = find_io_schemas(openapi, endpoint_id)
    return ModelSchema(
        endpoint_id=endpoint_id,
        name=metadata.get("display_name") or None,
        category=metadata.get("category") or fal_meta.get("category") or None,
        description=_clean(metadata.get("description")),
        input=fields_of(openapi, found_in),
        output=fields_of(openapi, found_out),
        openapi=dict(openapi),
    )
