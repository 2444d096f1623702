"""fal's Platform API (api.fal.ai/v1): model catalog, schemas, pricing, estimates.

- ``GET /models`` — search (``q``, ``category``, ``status``), find (``endpoint_id``,
  repeated) and list, paginated by ``limit``/``cursor``; ``expand=openapi-3.0`` adds
  each model's OpenAPI document (the schema source, f.3).
- ``GET /models/pricing?endpoint_id=…`` and ``POST /models/pricing/estimate``.

Every call is an idempotent GET (or a side-effect-free POST) and is retried on transport
errors and 408/429/5xx. The key is optional for ``/models`` and required for pricing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genmedia import errors
from genmedia.types import ModelInfo, ModelPage, ModelQuery, ModelSchema, RunRequest
from genmedia_fal import errors as fal_errors
from genmedia_fal.client import FalClient
from genmedia_fal.openapi import as_map
from genmedia_fal.schema import model_schema
from genmedia_fal.wire import normalize_endpoint

#: metadata keys copied into ``models[]`` entries (upstream's list; display_name → name).
METADATA_KEYS = (
    "category",
    "status",
    "description",
    "tags",
    "updated_at",
    "thumbnail_url",
    "model_url",
    "date",
)
#: ``genmedia models --expand`` values fal's catalogue accepts.
EXPAND_VALUES = ("openapi-3.0", "enterprise_status")
#: fal's own catalogue fields: ``ModelInfo.extra`` (printed beside the others).
EXTRA_KEYS = ("is_favorited", "highlighted", "pinned")
IMAGE_UNITS = ("image", "images")


def model_info(entry: Mapping[str, Any]) -> ModelInfo:
    meta = as_map(entry.get("metadata"))
    values = {k: meta[k] for k in METADATA_KEYS if k in meta}
    extra = {k: meta[k] for k in EXTRA_KEYS if k in meta}
    if entry.get("enterprise_status") is not None:
        extra["enterprise_status"] = entry.get("enterprise_status")
    return ModelInfo(
        endpoint_id=str(entry.get("endpoint_id")),
        name=meta.get("display_name"),
        openapi=entry.get("openapi") if isinstance(entry.get("openapi"), dict) else None,
        extra=extra,
        **values,
    )


class Platform:
    def __init__(self, client: FalClient) -> None:
        self.client = client
        self._schemas: dict[str, ModelSchema] = {}

    @property
    def base(self) -> str:
        return self.client.host("api")

    def _get(
        self, path: str, params: Sequence[tuple[str, Any]], *, what: str, auth: bool, ok: Any = None
    ) -> Any:
        client = self.client
        response = client.call(
            "GET",
            f"{self.base}{path}",
            what=what,
            params=list(params),
            headers={**client.auth(required=auth), "Content-Type": "application/json"},
            parse=True,
            ok=ok,
        )
        if not response.is_success:
            return None
        return response.fal_json  # type: ignore[attr-defined]

    # -- catalog --------------------------------------------------------------------------

    def search(self, query: ModelQuery) -> ModelPage:
        for value in query.expand:
            if value not in EXPAND_VALUES:
                raise errors.UsageError(
                    f"Invalid expand value: {value}", {"supported": list(EXPAND_VALUES)}
                )
        params: list[tuple[str, Any]] = []
        if query.query:
            params.append(("q", query.query))
        if query.category:
            params.append(("category", query.category))
        if query.status:
            params.append(("status", query.status))
        params.append(("limit", query.limit))
        if query.cursor:
            params.append(("cursor", query.cursor))
        params += [("endpoint_id", normalize_endpoint(e)) for e in query.endpoint_ids]
        params += [("expand", e) for e in query.expand]
        find_mode = bool(query.endpoint_ids)
        data = self._get(
            "/models",
            params,
            what="Model search failed",
            auth=False,
            ok=(lambda r: r.status_code == 404) if find_mode else None,
        )
        if data is None:  # find mode: an unknown id may be a 404
            return ModelPage(models=[])
        models = [model_info(m) for m in data.get("models") or () if isinstance(m, Mapping)]
        cursor = data.get("next_cursor")
        return ModelPage(
            models=models,
            next_cursor=cursor if isinstance(cursor, str) and cursor else None,
            has_more=bool(data.get("has_more", bool(cursor))),
        )

    def schema(self, endpoint_id: str, *, refresh: bool = False) -> ModelSchema:
        """The model's schema: from this process's memory, the disk cache
        (:mod:`.schema_cache`, unless ``refresh``), else fetched and cached."""
        import attrs

        from genmedia_fal.schema_cache import cache_key, cached_entry, open_cache

        endpoint = normalize_endpoint(endpoint_id)
        cached = self._schemas.get(endpoint)
        if cached is not None and not (refresh and cached.from_cache):
            return cached
        ttl = self.client.options.schema_ttl
        entry, from_cache = cached_entry(
            self.client.ctx,
            open_cache(ttl),
            cache_key(endpoint, self._cache_scope()),
            lambda: self._fetch_entry(endpoint),
            refresh=refresh,
        )
        meta = as_map(entry.get("metadata"))
        result = model_schema(endpoint, as_map(entry.get("openapi")), meta)
        result = attrs.evolve(result, from_cache=from_cache)
        self._schemas[endpoint] = result
        return result

    def _cache_scope(self) -> str:
        """Where schemas come from: the Platform host, or ``sandbox`` for the in-process
        emulator (a new port on every start, the same bundled catalogue)."""
        return "sandbox" if self.client.ctx.marks.get("sandbox") else self.base

    def _fetch_entry(self, endpoint: str) -> Mapping[str, Any]:
        """``GET /models?endpoint_id=…&expand=openapi-3.0``: the model's entry, checked."""
        data = self._get(
            "/models",
            [("endpoint_id", endpoint), ("expand", "openapi-3.0")],
            what="Schema fetch failed",
            auth=False,
            ok=lambda r: r.status_code == 404,
        )
        models = (data or {}).get("models") or []
        entry = next((m for m in models if m.get("endpoint_id") == endpoint), None)
        entry = entry or (models[0] if models else None)
        if not isinstance(entry, Mapping):
            raise errors.NotFoundError(
                f"Model not found: {endpoint}",
                {"endpoint_id": endpoint, "status": 404, "error_type": "not_found"},
            )
        openapi = entry.get("openapi")
        if not isinstance(openapi, Mapping) or ("error" in openapi and "paths" not in openapi):
            reason = openapi.get("error") if isinstance(openapi, Mapping) else None
            raise errors.NotFoundError(
                f"OpenAPI schema not available for: {endpoint}",
                {"endpoint_id": endpoint, "reason": reason}
                if reason
                else {"endpoint_id": endpoint},
            )
        return entry

    # -- pricing --------------------------------------------------------------------------

    def pricing(self, endpoint_ids: Sequence[str]) -> dict[str, Any]:
        """The Platform's pricing response, unchanged."""
        params = [("endpoint_id", normalize_endpoint(e)) for e in endpoint_ids]
        data = self._get("/models/pricing", params, what="Pricing fetch failed", auth=True)
        if not isinstance(data, dict):
            raise fal_errors.fal_error(
                errors.RemoteError, "Unexpected pricing reply", {"body": data}
            )
        return data

    def estimate_cost(self, estimate_type: str, quantities: Mapping[str, float]) -> dict[str, Any]:
        """``POST /models/pricing/estimate``: ``historical_api_price`` (calls) or ``unit_price``."""
        field = "call_quantity" if estimate_type == "historical_api_price" else "unit_quantity"
        client = self.client
        response = client.call(
            "POST",
            f"{self.base}/models/pricing/estimate",
            what="Price estimate failed",
            headers={**client.auth(), "Content-Type": "application/json"},
            json={
                "estimate_type": estimate_type,
                "endpoints": {normalize_endpoint(e): {field: q} for e, q in quantities.items()},
            },
            parse=True,
        )
        return response.fal_json  # type: ignore[no-any-return, attr-defined]

    def estimate(self, request: RunRequest) -> dict[str, Any]:
        """What ``run --dry-run`` shows: the unit price and the cost of this one call.

        Priced per image: ``unit_price`` × ``num_images`` (default 1); otherwise fal's
        historical average price of one call.
        """
        endpoint = normalize_endpoint(request.endpoint_id)
        prices = self.pricing([endpoint]).get("prices") or []
        price = next((p for p in prices if p.get("endpoint_id") == endpoint), None)
        doc: dict[str, Any] = {}
        if price:
            doc.update(unit_price=price.get("unit_price"), unit=price.get("unit"))
        count = request.input.get("num_images", 1)
        if price and price.get("unit") in IMAGE_UNITS and isinstance(count, int) and count > 0:
            answer = self.estimate_cost("unit_price", {endpoint: count})
            doc["basis"] = f"{count} {price.get('unit')}(s) at the unit price"
        else:
            answer = self.estimate_cost("historical_api_price", {endpoint: 1})
            doc["basis"] = "1 call at fal's historical average price"
        doc.update(
            estimate_type=answer.get("estimate_type"),
            total_cost=answer.get("total_cost"),
            currency=answer.get("currency"),
        )
        return doc
