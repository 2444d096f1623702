"""Validation: model inputs (jsonschema → FastAPI 422) and Platform API traffic (openapi-core).

Model inputs are checked against the model's input schema with openapi-schema-validator's
OAS30Validator (OpenAPI 3.0: ``nullable``; ``$ref`` resolved inside the model's document) and the
errors are reshaped like FastAPI/Pydantic v2 does: ``{"detail": [{loc, msg, type,
input, ctx?, url}]}``.

Every request to the ``api`` role and every response it sends is validated with
openapi-core against ``data/platform-openapi.json`` (OpenAPI 3.1, server
``https://api.fal.ai/v1``; our ``/api/v1`` prefix maps onto that server). The
OpenAPI object is built without openapi-spec-validator's 4-second spec check
(the bundled file is fal's official document) and lazily, on first use or in a
warm-up thread, so the emulator starts fast.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any

import attrs

DATA_DIR = Path(__file__).parent / "data"

# ----------------------------------------------------------------- model inputs

_TYPE_NAMES = {
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "string": ("string_type", "Input should be a valid string"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "array": ("list_type", "Input should be a valid list"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "null": ("none_required", "Input should be None"),
}


def _fmt_enum(values: list[Any]) -> str:
    parts = [repr(v) if isinstance(v, str) else json.dumps(v) for v in values]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


#: jsonschema bound → pydantic's error type, message words and ctx key.
_BOUNDS = {
    "maximum": ("less_than_equal", "less than or equal to", "le"),
    "minimum": ("greater_than_equal", "greater than or equal to", "ge"),
    "exclusiveMaximum": ("less_than", "less than", "lt"),
    "exclusiveMinimum": ("greater_than", "greater than", "gt"),
}


def _pydantic_error(err: Any) -> dict[str, Any]:
    """One jsonschema ValidationError → one FastAPI-shaped error item."""
    from jsonschema.exceptions import best_match

    if err.validator in ("anyOf", "oneOf") and err.context:
        deeper = best_match(err.context)
        if deeper is not None and deeper.validator not in ("type",):
            err = deeper
    loc: list[Any] = ["body", *err.absolute_path]
    kind = err.validator
    value = err.instance
    ctx: dict[str, Any] | None = None
    if kind == "required":
        field = err.message.split("'")[1] if "'" in err.message else ""
        loc.append(field)
        typ, msg = "missing", "Field required"
    elif kind in _BOUNDS:
        typ, words, key = _BOUNDS[kind]
        msg = f"Input should be {words} {err.validator_value}"
        ctx = {key: err.validator_value}
    elif kind == "enum":
        expected = _fmt_enum(list(err.validator_value))
        typ, msg, ctx = "enum", f"Input should be {expected}", {"expected": expected}
    elif kind == "maxLength":
        n = err.validator_value
        typ, msg, ctx = (
            "string_too_long",
            f"String should have at most {n} characters",
            {"max_length": n},
        )
    elif kind == "minLength":
        n = err.validator_value
        typ, msg, ctx = (
            "string_too_short",
            f"String should have at least {n} character{'s' if n != 1 else ''}",
            {"min_length": n},
        )
    elif kind == "maxItems":
        n = err.validator_value
        typ, msg = (
            "too_long",
            f"List should have at most {n} items after validation, not {len(value)}",
        )
        ctx = {"field_type": "List", "max_length": n, "actual_length": len(value)}
    elif kind == "minItems":
        n = err.validator_value
        typ, msg = (
            "too_short",
            f"List should have at least {n} item{'s' if n != 1 else ''} after validation, "
            f"not {len(value)}",
        )
        ctx = {"field_type": "List", "min_length": n, "actual_length": len(value)}
    elif kind == "type":
        want = (
            err.validator_value if isinstance(err.validator_value, str) else err.validator_value[0]
        )
        typ, msg = _TYPE_NAMES.get(want, ("value_error", err.message))
    else:
        typ, msg = "value_error", f"Value error, {err.message}"
    item: dict[str, Any] = {"loc": loc, "msg": msg, "type": typ, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    item["url"] = f"https://docs.fal.ai/errors/#{typ}"
    return item  # fmt: skip


@functools.lru_cache(maxsize=1)
def _oas30_validator_class() -> Any:
    """openapi-schema-validator's OAS30Validator (``nullable``, OpenAPI 3.0 keywords), widened
    to what fal's generated documents also contain: ``type: "null"`` inside ``anyOf``,
    ``const`` (pydantic's ``Literal``), and numeric ``exclusiveMinimum``/``exclusiveMaximum``
    (pydantic's ``gt``/``lt``, booleans in OpenAPI 3.0). They are read with their JSON
    Schema meaning, as pydantic on fal's side applies them."""
    from jsonschema import _keywords as draft
    from jsonschema import validators

    from .osv_settings import install

    install()  # its one setting without importing pydantic (see osv_settings)
    from openapi_schema_validator import OAS30Validator

    base = OAS30Validator.VALIDATORS

    def numeric(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def bound(name: str, exclusive: str) -> Any:
        def check(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
            if numeric(schema.get(exclusive)):  # JSON Schema meaning: independent keywords
                yield from getattr(draft, name)(validator, value, instance, schema)
            else:
                yield from base[name](validator, value, instance, schema)

        return check

    def exclusive(name: str) -> Any:
        def check(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
            if numeric(value):
                yield from getattr(draft, name)(validator, value, instance, schema)

        return check

    def type_(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if instance is None and (value == "null" or (isinstance(value, list) and "null" in value)):
            return
        yield from base["type"](validator, value, instance, schema)

    checker = OAS30Validator.TYPE_CHECKER.redefine("null", lambda _c, value: value is None)
    return validators.extend(
        OAS30Validator,
        {
            "type": type_,
            "const": draft.const,  # pydantic Literal[...] (JSON Schema's const; not OAS 3.0)
            "minimum": bound("minimum", "exclusiveMinimum"),
            "maximum": bound("maximum", "exclusiveMaximum"),
            "exclusiveMinimum": exclusive("exclusiveMinimum"),
            "exclusiveMaximum": exclusive("exclusiveMaximum"),
        },
        type_checker=checker,
    )


class InputValidator:
    """Caches one OpenAPI 3.0 schema validator per (model, schema name).

    fal's model documents are OpenAPI 3.0 (``nullable: true``, boolean exclusive bounds),
    so inputs are checked with openapi-schema-validator's OAS30Validator, not a JSON
    Schema 2020-12 validator (which ignores ``nullable`` and rejects a valid ``null``).
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], Any] = {}
        self._lock = threading.Lock()

    def _validator(self, doc: dict[str, Any], name: str) -> Any:
        key = (id(doc), name)
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                root = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
                found = self._cache[key] = _oas30_validator_class()(root)
        return found

    def errors(self, doc: dict[str, Any], name: str | None, payload: Any) -> list[dict[str, Any]]:
        """FastAPI-style ``detail`` items for ``payload`` (empty when valid)."""
        if name is None:
            return []
        if not isinstance(payload, dict):
            return [
                {"loc": ["body"], "msg": "Input should be a valid dictionary",
                 "type": "model_attributes_type", "input": payload}
            ]  # fmt: skip
        validator = self._validator(doc, name)
        errs = sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path)))
        return [_pydantic_error(e) for e in errs]

    def output_errors(self, doc: dict[str, Any], name: str | None, payload: Any) -> list[str]:
        if name is None:
            return []
        return [e.message for e in self._validator(doc, name).iter_errors(payload)]


# ------------------------------------------------------------------ platform API


@attrs.frozen
class ValidationIssue:
    """A request or response that does not conform to platform-openapi.json."""

    direction: str  # "request" | "response"
    method: str
    path: str
    status_code: int | None
    message: str
    timestamp: float


class PlatformValidator:
    """openapi-core validation of ``/api/v1`` traffic against fal's Platform API document."""

    HOST = "https://api.fal.ai"

    def __init__(self) -> None:
        self._api: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Build the OpenAPI object (imports openapi-core: ~0.5 s, so run it in a thread)."""
        self.api  # noqa: B018

    @property
    def api(self) -> Any:
        with self._lock:
            if self._api is None:
                from openapi_core import Config, OpenAPI

                spec = json.loads((DATA_DIR / "platform-openapi.json").read_text())
                _normalise_parameter_types(spec)
                self._api = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
            return self._api

    @staticmethod
    def _request(
        method: str,
        sub_path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Any:
        from openapi_core.testing import MockRequest
        from werkzeug.datastructures import ImmutableMultiDict

        content_type = headers.get("content-type", "application/json").split(";")[0] or None
        req = MockRequest(
            PlatformValidator.HOST,
            method.lower(),
            "/v1" + sub_path,
            headers=headers,
            data=body or None,
            content_type=content_type if body else None,  # type: ignore[arg-type]
        )
        req.parameters.query = ImmutableMultiDict(query)
        return req

    def check_request(
        self,
        method: str,
        sub_path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
    ) -> list[str]:
        api = self.api  # first: builds under the lock, so imports below never race the warm-up
        from openapi_core.validation.request.exceptions import SecurityValidationError

        req = self._request(method, sub_path, query, headers, body)
        result = api.unmarshal_request(req)
        problems = []
        for error in result.errors:
            if isinstance(error, SecurityValidationError) and sub_path.rstrip("/") == "/models":
                continue  # GET /models: optional auth on fal (fal-api.md a); the spec says apiKey
            problems.append(_describe(error))
        return problems

    def check_response(
        self,
        method: str,
        sub_path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
        status: int,
        resp_body: bytes,
        resp_type: str | None,
    ) -> list[str]:
        api = self.api
        from openapi_core.testing import MockResponse

        req = self._request(method, sub_path, query, headers, body)
        resp = MockResponse(resp_body, status_code=status, content_type=resp_type)  # type: ignore[arg-type]
        result = api.unmarshal_response(req, resp)
        return [_describe(e) for e in result.errors]


def _normalise_parameter_types(spec: dict[str, Any]) -> None:
    """In memory only: parameter schemas ``type: [X, "null"]`` → ``type: X``.

    openapi-core 0.23's parameter style deserializers read ``type`` as a string and crash
    on OpenAPI 3.1 type lists. A query parameter cannot carry a JSON null on the wire, so
    dropping ``"null"`` from a *parameter* schema changes nothing that can be validated.
    The bundled file itself stays byte-for-byte fal's.
    """

    def fix(params: Any) -> None:
        for param in params or []:
            schema = param.get("schema") if isinstance(param, dict) else None
            if isinstance(schema, dict) and isinstance(schema.get("type"), list):
                types = [t for t in schema["type"] if t != "null"]
                schema["type"] = types[0] if len(types) == 1 else types

    for item in spec.get("paths", {}).values():
        fix(item.get("parameters"))
        for op in item.values():
            if isinstance(op, dict):
                fix(op.get("parameters"))
    fix(list(spec.get("components", {}).get("parameters", {}).values()))


def _describe(error: Exception) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        text = str(cause)
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            text += " " + "; ".join(getattr(e, "message", str(e)) for e in schema_errors)
        if text not in parts[-1]:
            parts.append(text)
        cause = cause.__cause__
    return " <- ".join(parts)
