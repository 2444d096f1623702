"""Reading fal's OpenAPI documents: local ``$ref`` resolution and the input/output schemas.

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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

JsonDict = dict[str, Any]
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
