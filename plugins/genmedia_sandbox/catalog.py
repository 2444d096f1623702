"""The model catalog, built from real fal OpenAPI documents bundled in ``data/``.

Sources (copied unmodified from the project's shared fal data):

- ``data/models/*.json`` + ``data/models/INDEX.json``: queue OpenAPI documents of 40
  endpoints; INDEX names each document's input and output schema.
- ``data/v1-models-entries-with-openapi.json``: 12 ``/v1/models`` entries
  (``endpoint_id``, ``metadata``, ``openapi``) captured from the Platform API.
- ``data/v1-models-metadata-rows.json``: listing metadata of 12 more endpoints.

Endpoints without captured metadata get metadata synthesised from the document's
``info.x-fal-metadata`` (display name derived from the endpoint id).
"""

from __future__ import annotations

import json
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

import attrs

DATA_DIR = Path(__file__).parent / "data"

#: Unit prices (USD) by category, for /v1/models/pricing; fal's real prices vary per model.
_PRICES: dict[str, tuple[float, str]] = {
    "text-to-image": (0.025, "image"),
    "image-to-image": (0.03, "image"),
    "text-to-video": (0.1, "video_second"),
    "image-to-video": (0.1, "video_second"),
    "video-to-video": (0.05, "video_second"),
    "text-to-audio": (0.0005, "second"),
    "text-to-speech": (0.1, "1000_characters"),
    "speech-to-text": (0.0005, "second"),
    "speech-to-speech": (0.0005, "second"),
    "image-to-3d": (0.4, "generation"),
    "training": (2.0, "training_run"),
}


@attrs.define(eq=False)
class CatalogModel:
    """One endpoint: its OpenAPI document, schema names and listing metadata."""

    endpoint_id: str
    openapi: dict[str, Any]
    input_name: str | None
    output_name: str | None
    metadata: dict[str, Any]
    aliases: tuple[str, ...] = ()

    @property
    def category(self) -> str:
        return str(self.metadata.get("category") or "")

    @property
    def components(self) -> dict[str, Any]:
        schemas: dict[str, Any] = self.openapi.get("components", {}).get("schemas", {})
        return schemas

    def schema(self, name: str | None) -> dict[str, Any] | None:
        if name is None:
            return None
        found: dict[str, Any] | None = self.components.get(name)
        return found

    @property
    def input_schema(self) -> dict[str, Any] | None:
        return self.schema(self.input_name)

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self.schema(self.output_name)

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow a local ``$ref`` (``#/components/schemas/X``) once, repeatedly."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = node["$ref"]
            node = self.components.get(ref.rsplit("/", 1)[-1], {})
            seen += 1
        return node

    @property
    def price(self) -> tuple[float, str]:
        return _PRICES.get(self.category, (0.01, "request"))


def _select_schemas(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    """genmedia's rule (fal-api.md f.3): the last schema name ending in input/output wins."""
    inp = out = None
    for name in doc.get("components", {}).get("schemas", {}):
        low = name.lower()
        if low in ("input", "request") or low.endswith("input"):
            inp = name
        if low in ("output", "response") or low.endswith("output"):
            out = name
    return inp, out


def _display_name(endpoint_id: str) -> str:
    parts = endpoint_id.split("/")[1:] or [endpoint_id]
    words = " ".join(parts).replace("-", " ").replace("_", " ").split()
    return " ".join(w if any(c.isdigit() for c in w) else w.capitalize() for w in words)


def _synth_metadata(endpoint_id: str, doc: dict[str, Any], category: str) -> dict[str, Any]:
    info = doc.get("info", {}).get("x-fal-metadata", {})
    return {
        "display_name": _display_name(endpoint_id),
        "category": info.get("category") or category,
        "description": info.get("about") or f"{_display_name(endpoint_id)} on fal (sandbox)",
        "status": "active",
        "tags": [],
        "updated_at": "2026-05-01T00:00:00.000Z",
        "is_favorited": None,
        "thumbnail_url": info.get("thumbnailUrl") or "https://v3.fal.media/files/sandbox/thumb.png",
        "model_url": f"https://fal.run/{endpoint_id}",
        "date": "2025-01-01T00:00:00.000Z",
        "highlighted": False,
        "pinned": False,
        "kind": "training" if category == "training" else "inference",
    }


class Catalog:
    """All endpoints the emulator knows, in a stable order (sorted by endpoint id)."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self._dir = data_dir
        self._lock = threading.Lock()
        self._built: dict[str, CatalogModel] = {}  # endpoint id → model, built once

    @cached_property
    def models(self) -> dict[str, CatalogModel]:
        with self._lock:
            return dict(sorted((eid, self._build(eid)) for eid in self._sources))

    @cached_property
    def _sources(self) -> dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]]:
        """Endpoint id → (its INDEX.json row, its captured ``/v1/models`` entry): what the
        catalogue holds, read without parsing the 40 model documents (a ``--sandbox``
        command usually needs one of them: :meth:`get` builds only that one)."""
        index = json.loads((self._dir / "models" / "INDEX.json").read_text())
        entries = json.loads((self._dir / "v1-models-entries-with-openapi.json").read_text())
        found: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {
            row["endpoint_id"]: (row, None) for row in index
        }
        for entry in entries:
            row, _ = found.get(entry["endpoint_id"], (None, None))
            found[entry["endpoint_id"]] = (row, entry)
        return found

    @cached_property
    def _rows(self) -> dict[str, dict[str, Any]]:
        """Listing metadata by endpoint id (metadata rows first, then captured entries)."""
        rows = {
            r["endpoint_id"]: r["metadata"]
            for r in json.loads((self._dir / "v1-models-metadata-rows.json").read_text())
        }
        for _, entry in self._sources.values():
            if entry is not None:
                rows.setdefault(entry["endpoint_id"], entry["metadata"])
        return rows

    def _build(self, eid: str) -> CatalogModel:
        """The model of ``eid`` (a key of :attr:`_sources`), built once (call under the lock)."""
        model = self._built.get(eid)
        if model is not None:
            return model
        row, entry = self._sources[eid]
        if row is not None:  # a bundled queue document wins over a captured entry
            doc = json.loads(
                (self._dir / "models" / (eid.replace("/", "__") + ".json")).read_text()
            )
            category = row.get("fal_category") or row.get("category") or ""
            meta = self._rows.get(eid) or _synth_metadata(eid, doc, category)
            aliases = tuple({row.get("doc_endpoint_id") or eid} - {eid})
            model = CatalogModel(
                eid, doc, row["input_schema_name"], row["output_schema_name"], meta, aliases
            )
        else:
            assert entry is not None
            inp, out = _select_schemas(entry["openapi"])
            model = CatalogModel(eid, entry["openapi"], inp, out, entry["metadata"])
        self._built[eid] = model
        return model

    @cached_property
    def _by_lower(self) -> dict[str, str]:
        """Lower-cased endpoint id or alias → endpoint id."""
        table: dict[str, str] = {}
        for eid, (row, _) in sorted(self._sources.items()):  # later ids win, as before
            aliases = {row.get("doc_endpoint_id") or eid} if row is not None else set()
            for name in (eid, *(aliases - {eid})):
                table[name.lower()] = eid
        return table

    def get(self, endpoint_id: str) -> CatalogModel | None:
        eid = self._by_lower.get(endpoint_id.strip("/").lower())
        if eid is None:
            return None
        with self._lock:
            return self._build(eid)

    def match_path(self, path: str) -> tuple[CatalogModel, str] | None:
        """Longest catalog endpoint id that prefixes ``path``; returns (model, sub-path)."""
        parts = path.strip("/").split("/")
        for n in range(len(parts), 1, -1):
            model = self.get("/".join(parts[:n]))
            if model is not None:
                return model, "/".join(parts[n:])
        return None

    def search(
        self,
        query: str | None,
        *,
        category: str | None = None,
        status: str | None = None,
        candidates: list[CatalogModel] | None = None,
    ) -> list[CatalogModel]:
        """Models matching ``query`` best first (the Platform API's ``q``).

        Ranked by relevance rather than requiring every word: each query word (filler
        words left out, light stemming: ``running`` ~ ``run``) scores 3 in the endpoint
        id or name, 2 in the category or tags, 1 in the description. Without a category
        a model must score; with one, every model of the category is listed, matches
        first. Ties keep the catalog's order (endpoint id).
        """
        pool = list(self.models.values()) if candidates is None else candidates
        pool = [
            m
            for m in pool
            if (not category or m.category == category)
            and (not status or m.metadata.get("status", "active") == status)
        ]
        words = query_words(query or "")
        if not words:
            return pool
        scored = [(relevance(m, words), i, m) for i, m in enumerate(pool)]
        if not category:
            scored = [s for s in scored if s[0] > 0]
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [m for _score, _i, m in scored]


#: words a task description is made of that say nothing about the model
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "with",
        "and",
        "or",
        "in",
        "on",
        "at",
        "by",
        "from",
        "into",
        "my",
        "me",
        "i",
        "you",
        "it",
        "this",
        "that",
        "is",
        "are",
        "be",
        "some",
        "any",
        "please",
        "want",
        "need",
        "model",
        "models",
        "generate",
        "generating",
        "make",
        "making",
        "create",
        "creating",
        "produce",
        "get",
        "using",
        "use",
    ]
)


def _stem(word: str) -> str:
    for suffix in ("ning", "ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def query_words(query: str) -> list[str]:
    import re

    words = re.findall(r"[a-z0-9.]+", query.lower())
    return [_stem(w) for w in words if w not in _FILLER]


def relevance(model: CatalogModel, words: list[str]) -> int:
    meta = model.metadata
    fields = (
        (3, f"{model.endpoint_id} {meta.get('display_name', '')}".lower()),
        (2, f"{meta.get('category', '')} {' '.join(meta.get('tags') or [])}".lower()),
        (1, str(meta.get("description", "")).lower()),
    )
    return sum(weight for w in words for weight, hay in fields if w in hay)
