"""The client's local validator and the emulator's agree on every bundled model's inputs.

For each model the test builds a valid input, then per top-level field: boundary values
(at each bound), values just past each bound, too long / too short strings and lists,
values outside an enum, a wrong type and ``null``. The client (genmedia_inputs.validate,
on fields built by the fal plugin from the same OpenAPI document) and the emulator
(genmedia_sandbox.validation) must both accept or both reject each input, naming the
same fields. Deliberate differences are listed in docs/sandbox.md (and skipped here):
the client also refuses unknown top-level fields; neither checks ``format``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from genmedia_fal.schema import input_object_schema, model_schema
from genmedia_inputs.validate import validate_input
from genmedia_sandbox.catalog import Catalog
from genmedia_sandbox.validation import InputValidator

CATALOG = Catalog()
EMULATOR = InputValidator()
NOT_IN_ENUM = "definitely-not-a-listed-value"


def _options(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return [o for o in schema[key] if isinstance(o, Mapping) and o.get("type") != "null"]
    return [schema]


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def valid(schema: Mapping[str, Any]) -> Any:
    schema = _options(schema)[0]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    typ = schema.get("type")
    if typ == "integer" or typ == "number":
        lo = schema.get("minimum")
        xlo = schema.get("exclusiveMinimum")
        hi = schema.get("maximum")
        value: Any = lo if _numeric(lo) else (xlo + 1 if _numeric(xlo) else 1)
        if _numeric(hi) and value > hi:
            value = hi
        return value
    if typ == "string":
        return "x" * max(1, int(schema.get("minLength") or 1))
    if typ == "boolean":
        return True
    if typ == "array":
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        return [valid(items) for _ in range(max(1, int(schema.get("minItems") or 1)))]
    props = schema.get("properties") or {}
    return {name: valid(props[name]) for name in schema.get("required") or () if name in props}


def variants(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(label, value) pairs around the field's bounds, lengths, enum, type and nullness."""
    yield "null", None
    for option in _options(schema):
        typ = option.get("type")
        if option.get("enum"):
            yield "enum-outside", NOT_IN_ENUM
            yield "enum-last", option["enum"][-1]
        if typ in ("integer", "number"):
            step = 1 if typ == "integer" else 0.5
            yield "wrong-type", "abc"
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                bound = option.get(key)
                if not _numeric(bound):
                    continue
                yield f"{key}-at", bound
                yield f"{key}-below", bound - step
                yield f"{key}-above", bound + step
        elif typ == "string":
            yield "wrong-type", 12345
            for key in ("minLength", "maxLength"):
                n = option.get(key)
                if isinstance(n, int) and n < 100_000:
                    yield f"{key}-at", "y" * n
                    yield f"{key}-over", "y" * (n + 1)
                    if n > 0:
                        yield f"{key}-under", "y" * (n - 1)
        elif typ == "boolean":
            yield "wrong-type", "maybe"
        elif typ == "array":
            yield "wrong-type", "not-a-list"
            items = option.get("items") if isinstance(option.get("items"), Mapping) else {}
            for key in ("minItems", "maxItems"):
                n = option.get(key)
                if isinstance(n, int) and n < 1000:
                    yield f"{key}-at", [valid(items)] * n
                    yield f"{key}-over", [valid(items)] * (n + 1)
                    if n > 0:
                        yield f"{key}-under", [valid(items)] * (n - 1)


def cases() -> Iterator[Any]:
    for endpoint_id in sorted(CATALOG.models):
        yield pytest.param(endpoint_id, id=endpoint_id)


def _client_fields(issues: list[dict[str, Any]]) -> set[str]:
    return {i["field"].split(".")[0].split("[")[0] for i in issues}


def _emulator_fields(detail: list[dict[str, Any]]) -> set[str]:
    return {str(e["loc"][1]) if len(e["loc"]) > 1 else "body" for e in detail}


@pytest.mark.parametrize("endpoint_id", list(cases()))
def test_client_and_emulator_agree(endpoint_id: str) -> None:
    model = CATALOG.get(endpoint_id)
    assert model is not None
    doc = model.openapi
    schema = input_object_schema(doc, endpoint_id)
    if schema is None or model.input_name is None:
        pytest.skip("no input schema")
    fields = {f.name: f for f in model_schema(endpoint_id, doc).input or []}
    props: Mapping[str, Any] = schema.get("properties") or {}
    base = {name: valid(props[name]) for name in schema.get("required") or () if name in props}
    inputs: list[tuple[str, dict[str, Any]]] = [("valid", base)]
    for name, prop in props.items():
        inputs.append((f"{name}:valid", {**base, name: valid(prop)}))
        inputs += [(f"{name}:{label}", {**base, name: value}) for label, value in variants(prop)]
    for name in schema.get("required") or ():
        inputs.append((f"{name}:missing", {k: v for k, v in base.items() if k != name}))
    disagreements = []
    for label, payload in inputs:
        client = validate_input(payload, fields)
        emulator = EMULATOR.errors(doc, model.input_name, payload)
        if _client_fields(client) != _emulator_fields(emulator):
            disagreements.append((label, payload.get(label.split(":")[0]), client, emulator))
    assert not disagreements, "\n".join(map(repr, disagreements[:5]))
    assert not validate_input(base, fields), "the generated valid input must be valid"
    assert not EMULATOR.errors(doc, model.input_name, base)


def test_big_bounds_compare_exactly() -> None:
    # sonauto's seed documents minimum -9223372036854776000: a float conversion of the
    # bound (-9223372036854775808.0) made the client reject the documented minimum
    endpoint_id = "sonauto/v2/text-to-music"
    model = CATALOG.get(endpoint_id)
    assert model is not None
    fields = {f.name: f for f in model_schema(endpoint_id, model.openapi).input or []}
    seed = fields["seed"].schema
    lowest = next(o["minimum"] for o in _options(seed) if "minimum" in o)
    assert lowest == -9223372036854776000
    payload = {"prompt": "x", "seed": lowest}
    assert validate_input(payload, fields) == []
    assert EMULATOR.errors(model.openapi, model.input_name, payload) == []
    below = {"prompt": "x", "seed": lowest - 1}
    assert [i["type"] for i in validate_input(below, fields)] == ["greater_than_equal"]
