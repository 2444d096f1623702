"""Platform API (api.fal.ai/v1): model search/listing, pricing and price estimates.

- ``GET /models``: ``q`` (every word must appear in id, name, description, category
  or tags), ``category``, ``status``, ``endpoint_id`` (repeated or comma list, 1-50;
  unknown ids are left out, so an unknown id alone gives ``200 {"models": []}``),
  ``expand`` (``openapi-3.0``, ``enterprise_status``; repeated or comma list),
  ``limit`` (default 50), ``cursor`` (base64 of the 1-based page number, e.g.
  ``Mg==`` = page 2). ``is_favorited`` is null without a key and false with one.
- ``GET /models/pricing``: prices from a per-category table; unknown ids are left
  out, and 404 when none is known.
- ``POST /models/pricing/estimate``: both estimate types.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import CatalogModel
from .responses import has_key, platform_error, read_json

if TYPE_CHECKING:
    from .state import Sandbox

DEFAULT_LIMIT = 50
EXPANSIONS = ("openapi-3.0", "enterprise_status")


def multi(request: Request, name: str) -> list[str]:
    """Repeated and comma-separated values, de-duplicated in order."""
    out: list[str] = []
    for raw in request.query_params.getlist(name):
        for item in raw.split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return out


def encode_cursor(page: int) -> str:
    return base64.b64encode(str(page).encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return 1
    try:
        page = int(base64.b64decode(cursor, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return page if page >= 1 else None


def parse_limit(raw: str | None, default: int) -> int | None:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 1 else None


async def handle(sandbox: Sandbox, sub: str, request: Request) -> Response:
    path = sub.rstrip("/")
    if path == "/models" and request.method == "GET":
        return _models(sandbox, request)
    if path == "/models/pricing" and request.method == "GET":
        return _pricing(sandbox, request)
    if path == "/models/pricing/estimate" and request.method == "POST":
        return await _estimate(sandbox, request)
    return platform_error(
        404, "not_found", f"Resource not found: /v1{sub} (not emulated by the sandbox)"
    )


def model_entry(model: CatalogModel, expand: list[str], authed: bool) -> dict[str, Any]:
    metadata = dict(model.metadata)
    metadata["is_favorited"] = False if authed else None
    entry: dict[str, Any] = {"endpoint_id": model.endpoint_id, "metadata": metadata}
    if "openapi-3.0" in expand:
        entry["openapi"] = model.openapi
    if "enterprise_status" in expand:
        entry["enterprise_status"] = "ready"
    return entry


def _models(sandbox: Sandbox, request: Request) -> Response:
    params = request.query_params
    limit = parse_limit(params.get("limit"), DEFAULT_LIMIT)
    if limit is None:
        return platform_error(400, "validation_error", "limit must be a positive integer")
    page = decode_cursor(params.get("cursor"))
    if page is None:
        return platform_error(400, "validation_error", "Invalid cursor")
    expand = multi(request, "expand")
    bad = [e for e in expand if e not in EXPANSIONS]
    if bad:
        return platform_error(400, "validation_error", f"Invalid expand value: {bad[0]}")
    status = params.get("status")
    if status is not None and status not in ("active", "deprecated"):
        return platform_error(400, "validation_error", "status must be 'active' or 'deprecated'")
    ids = multi(request, "endpoint_id")
    if len(ids) > 50:
        return platform_error(400, "validation_error", "At most 50 endpoint_id values are allowed")
    catalog = sandbox.catalog
    if ids:
        candidates = [m for m in (catalog.get(i) for i in ids) if m is not None]
    else:
        candidates = list(catalog.models.values())
    found = catalog.search(
        params.get("q"), category=params.get("category"), status=status, candidates=candidates
    )
    start = (page - 1) * limit
    chunk = found[start : start + limit]
    more = start + limit < len(found)
    authed = has_key(request)
    return JSONResponse(
        {
            "models": [model_entry(m, expand, authed) for m in chunk],
            "next_cursor": encode_cursor(page + 1) if more else None,
            "has_more": more,
        }
    )


def _pricing(sandbox: Sandbox, request: Request) -> Response:
    ids = multi(request, "endpoint_id")
    if not ids:
        return platform_error(400, "validation_error", "endpoint_id is required")
    if len(ids) > 50:
        return platform_error(400, "validation_error", "At most 50 endpoint_id values are allowed")
    prices = []
    for eid in ids:
        model = sandbox.catalog.get(eid)
        if model is None:
            continue
        price, unit = model.price
        prices.append(
            {"endpoint_id": model.endpoint_id, "unit_price": price, "unit": unit, "currency": "USD"}
        )
    if not prices:
        return platform_error(404, "not_found", f"No pricing found for: {', '.join(ids)}")
    return JSONResponse({"prices": prices, "next_cursor": None, "has_more": False})


async def _estimate(sandbox: Sandbox, request: Request) -> Response:
    body, error = await read_json(request)
    if error is not None or not isinstance(body, dict):
        return platform_error(400, "validation_error", "Body must be a JSON object")
    kind = body.get("estimate_type")
    endpoints = body.get("endpoints")
    if kind not in ("historical_api_price", "unit_price") or not isinstance(endpoints, dict):
        return platform_error(400, "validation_error", "estimate_type and endpoints are required")
    field = "call_quantity" if kind == "historical_api_price" else "unit_quantity"
    total = 0.0
    for eid, spec in endpoints.items():
        model = sandbox.catalog.get(eid)
        if model is None:
            return platform_error(404, "not_found", f"Unknown endpoint: {eid}")
        qty = spec.get(field) if isinstance(spec, dict) else None
        if not isinstance(qty, (int, float)) or isinstance(qty, bool) or qty <= 0:
            return platform_error(
                400, "validation_error", f"endpoints.{eid}.{field} must be positive"
            )
        total += model.price[0] * float(qty)
    return JSONResponse({"estimate_type": kind, "total_cost": round(total, 6), "currency": "USD"})
