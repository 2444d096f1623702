"""fal OpenAPI documents → :class:`genmedia.types.ModelSchema` (the compact form).

Finding the input and output schemas (fal-api.md f.3), most reliable first:

1. the ``POST`` ``requestBody`` of the endpoint's own path (``/<endpoint_id>``) and the
   ``200`` response of ``GET /<endpoint_id>/requests/{request_id}`` (the result);
2. the same from any POST path / any ``…/requests/{request_id}`` GET path, for documents
   whose paths do not spell the endpoint id exactly;
3. upstream genmedia's name rule over ``components.schemas`` in document order: a name
   that is ``input``/``request`` or ends with ``input`` is the input, ``output``/
   ``response`` or ending with ``output`` the output; a later match overwrites an earlier
   one (kept for documents without paths — it picks ``LDMVoiceInput`` over
   ``PlayaiTtsDialogInput``, which is why the paths come first).

Each property is resolved through ``$ref``, ``allOf`` (merged), and ``anyOf``/``oneOf``
(``null`` branches make the field ``nullable``; one remaining branch is the field's type,
several make a union ``a|b``), so nested and nullable fields show real types, enums,
defaults, bounds and ``required``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from genmedia.types import MISSING, FieldSchema, ModelSchema

JsonDict = dict[str, Any]

#: ``_fal_ui_field`` values that mark a string as a media URL.
FILE_UI_FIELDS = frozenset(
    {"image", "video", "audio", "file", "image_url", "video_url", "audio_url"}
)
_MAX_DEPTH = 12


# --------------------------------------------------------------------------- $ref


def resolve_ref(doc: Mapping[str, Any], ref: str) -> JsonDict:
    """The schema a local ``#/…`` reference points at (``{}`` when it cannot be found)."""
    if not ref.startswith("#/"):
        return {}
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return {}
        node = node[part]
    return dict(node) if isinstance(node, Mapping) else {}


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def deref(
    doc: Mapping[str, Any], schema: Any, depth: int = 0, seen: frozenset[str] = frozenset()
) -> Any:
    """``schema`` with every local ``$ref`` inlined and ``allOf`` merged.

    Recursive references stop at the second visit (the node is left as ``{"$ref": …}``
    with a ``title``), so self-referencing models cannot loop.
    """
    if depth > _MAX_DEPTH:
        return schema
    if isinstance(schema, list):
        return [deref(doc, item, depth + 1, seen) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    node = dict(schema)
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return {"title": ref_name(ref), **{k: v for k, v in node.items()}}
        target = resolve_ref(doc, ref)
        target.setdefault("title", ref_name(ref))
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**deref(doc, target, depth + 1, seen | {ref}), **siblings}
        return {
            k: deref(doc, v, depth + 1, seen | {ref}) if k in _SUBSCHEMA_KEYS else v
            for k, v in merged.items()
        }
    out: JsonDict = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "$defs", "definitions") and isinstance(
            value, Mapping
        ):
            out[key] = {k: deref(doc, v, depth + 1, seen) for k, v in value.items()}
        elif key in _SUBSCHEMA_KEYS:
            out[key] = deref(doc, value, depth + 1, seen)
        else:
            out[key] = value
    if isinstance(out.get("allOf"), list):
        out = merge_all_of(out)
    return out


_SUBSCHEMA_KEYS = frozenset(
    {"items", "additionalProperties", "anyOf", "oneOf", "allOf", "not", "prefixItems", "properties"}
)


def merge_all_of(schema: Mapping[str, Any]) -> JsonDict:
    """Merge ``allOf`` members into one schema; the node's own keys win."""
    merged: JsonDict = {}
    required: list[str] = []
    props: JsonDict = {}
    for part in schema.get("allOf") or ():
        if not isinstance(part, Mapping):
            continue
        part = merge_all_of(part) if "allOf" in part else part
        for key, value in part.items():
            if key == "properties" and isinstance(value, Mapping):
                props.update(value)
            elif key == "required" and isinstance(value, list):
                required.extend(r for r in value if r not in required)
            else:
                merged.setdefault(key, value)
    for key, value in schema.items():
        if key == "allOf":
            continue
        if key == "properties" and isinstance(value, Mapping):
            props.update(value)
        elif key == "required" and isinstance(value, list):
            required.extend(r for r in value if r not in required)
        else:
            merged[key] = value
    if props:
        merged["properties"] = props
    if required:
        merged["required"] = required
    return merged


# --------------------------------------------------------------------------- finding schemas


def _json_schema_of(content: Any) -> Any:
    if not isinstance(content, Mapping):
        return None
    media = content.get("application/json") or next(iter(content.values()), None)
    return media.get("schema") if isinstance(media, Mapping) else None


def _is_queue_status(doc: Mapping[str, Any], schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref_name(ref) == "QueueStatus":
            return True
        schema = resolve_ref(doc, ref)
    props = schema.get("properties") or {}
    return {"status", "request_id"} <= set(props) and "response_url" in props


def as_map(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def find_io_schemas(doc: Mapping[str, Any], endpoint_id: str | None = None) -> tuple[Any, Any]:
    """The (input, output) JSON schemas of a fal queue OpenAPI document (unresolved)."""
    paths = as_map(doc.get("paths"))
    own = "/" + endpoint_id.strip("/") if endpoint_id else None
    inputs: list[tuple[int, Any]] = []
    outputs: list[tuple[int, Any]] = []
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            continue
        rank = 0 if own is not None and (path == own or path.startswith(own + "/requests/")) else 1
        post = item.get("post")
        if isinstance(post, Mapping) and "/requests/" not in path:
            body = post.get("requestBody")
            schema = _json_schema_of(body.get("content")) if isinstance(body, Mapping) else None
            if schema is not None:
                inputs.append((rank, schema))
        get = item.get("get")
        if isinstance(get, Mapping) and re.search(r"/requests/\{[^}]+\}/?$", path):
            ok = (get.get("responses") or {}).get("200")
            schema = _json_schema_of(ok.get("content")) if isinstance(ok, Mapping) else None
            if schema is not None and not _is_queue_status(doc, schema):
                outputs.append((rank, schema))
    inputs.sort(key=lambda x: x[0])
    outputs.sort(key=lambda x: x[0])
    by_name_in, by_name_out = _by_name(doc)
    found_in = inputs[0][1] if inputs else by_name_in
    found_out = outputs[0][1] if outputs else by_name_out
    return found_in, found_out


def _by_name(doc: Mapping[str, Any]) -> tuple[Any, Any]:
    """Upstream genmedia's rule: later matches overwrite earlier ones."""
    schemas = (doc.get("components") or {}).get("schemas") or {}
    found_in = found_out = None
    for name, schema in schemas.items():
        low = name.lower()
        if low in ("input", "request") or low.endswith("input"):
            found_in = schema
        elif low in ("output", "response") or low.endswith("output"):
            found_out = schema
    return found_in, found_out


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
