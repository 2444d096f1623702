"""Model outputs built from the model's own output schema, with real media files.

The generator walks the output schema (following ``$ref``/``allOf``/``anyOf``),
fills every required property, and turns every File-like object (an object schema
with a ``url`` property) into a real file stored on the emulator's CDN. Media
choice comes from the property name, the schema title/content-type default and
the model category. Everything is deterministic from (endpoint, input, seed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import attrs

from . import media
from .catalog import CatalogModel
from .storage import Storage

#: fal's named image sizes (fal-ai/flux docs).
IMAGE_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
MAX_SIDE = 4096
_CT = {
    "png": ("image/png", "png"),
    "jpeg": ("image/jpeg", "jpg"),
    "video": ("video/mp4", "mp4"),
    "audio": ("audio/wav", "wav"),
    "glb": ("model/gltf-binary", "glb"),
    "json": ("application/json", "json"),
    "bin": ("application/octet-stream", "safetensors"),
}


@attrs.define
class OutputOptions:
    hostile_names: bool = False
    large_output: int | None = None


def derive_seed(endpoint_id: str, payload: Any) -> int:
    seed = payload.get("seed") if isinstance(payload, dict) else None
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    blob = json.dumps([endpoint_id, payload], sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "big") >> 1


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        m = re.match(r"\s*(\d+(?:\.\d+)?)", value)
        if m:
            return float(m.group(1))
    return None


def _aspect(value: Any, base: int = 1024) -> tuple[int, int] | None:
    if not isinstance(value, str) or ":" not in value:
        return None
    try:
        a, b = (float(x) for x in value.split(":", 1))
    except ValueError:
        return None
    if a >= b:
        return base, max(8, round(base * b / a / 8) * 8)
    return max(8, round(base * a / b / 8) * 8), base


class _Builder:
    def __init__(
        self,
        model: CatalogModel,
        payload: dict[str, Any],
        seed: int,
        storage: Storage,
        cdn_base: str,
        options: OutputOptions,
    ) -> None:
        self.model = model
        self.input = payload
        self.seed = seed
        self.storage = storage
        self.cdn_base = cdn_base
        self.options = options
        self.counter = 0
        self.count = int(_number(payload.get("num_images")) or 1)
        self.image_sizes: list[tuple[int, int]] = []

    # -- media parameters ------------------------------------------------------------
    def image_size(self) -> tuple[int, int]:
        size = self.input.get("image_size")
        if isinstance(size, str) and size in IMAGE_SIZES:
            w, h = IMAGE_SIZES[size]
        elif isinstance(size, dict) and "width" in size and "height" in size:
            w, h = int(size["width"]), int(size["height"])
        elif "width" in self.input and "height" in self.input:
            w, h = int(self.input["width"]), int(self.input["height"])
        elif _aspect(self.input.get("aspect_ratio")):
            w, h = _aspect(self.input.get("aspect_ratio"))  # type: ignore[misc]
        else:
            default = self._input_default("image_size")
            w, h = (
                IMAGE_SIZES.get(default, (1024, 1024)) if isinstance(default, str) else (1024, 1024)
            )
        return max(1, min(MAX_SIDE, w)), max(1, min(MAX_SIDE, h))

    def _input_default(self, name: str) -> Any:
        schema = self.model.input_schema or {}
        return schema.get("properties", {}).get(name, {}).get("default")

    def duration(self, default: float = 5.0) -> float:
        for key in ("duration", "seconds_total", "duration_seconds", "length"):
            value = _number(self.input.get(key))
            if value is None:
                value = _number(self._input_default(key))
            if value:
                return min(value, 600.0)
        text = self.input.get("text") or self.input.get("input")
        if isinstance(text, str) and text:
            return max(1.0, min(60.0, len(text) * 0.06))
        return default

    def media_kind(self, name: str, schema: dict[str, Any]) -> str:
        n = name.lower()
        title = str(schema.get("title") or "").lower()
        ct = schema.get("properties", {}).get("content_type", {})
        ct_default = str(ct.get("default") or "")
        for keys, kind in (
            (("image", "mask", "texture", "frame", "thumbnail"), "image"),
            (("video",), "video"),
            (("audio", "music", "speech", "voice", "sound"), "audio"),
            (("mesh", "glb", "3d", "model"), "glb"),
            (("config",), "json"),
            (("lora", "weights", "safetensors"), "bin"),
        ):
            if any(k in n for k in keys) or any(k == title for k in keys):
                return kind
        for prefix, kind in (("image/", "image"), ("video/", "video"), ("audio/", "audio")):
            if ct_default.startswith(prefix):
                return kind
        cat = self.model.category
        if cat.endswith("video"):
            return "video"
        if cat.endswith(("audio", "speech")):
            return "audio"
        if cat.endswith("3d"):
            return "glb"
        if cat == "training":
            return "bin"
        return "image"

    # -- files -----------------------------------------------------------------------
    def file(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        props = schema.get("properties", {})
        kind = self.media_kind(name, schema)
        index = self.counter
        self.counter += 1
        seed = self.seed + index
        extra: dict[str, Any] = {}
        if kind == "image":
            w, h = self.image_size()
            fmt = str(self.input.get("output_format") or "").lower()
            if not fmt:
                ct_default = str(props.get("content_type", {}).get("default") or "")
                fmt = "png" if "png" in ct_default else "jpeg"
            kind = "png" if fmt in ("png", "webp") else "jpeg"
            data = media.png(w, h, seed) if kind == "png" else media.jpeg(w, h, seed)
            extra = {"width": w, "height": h}
        elif kind == "video":
            vw, vh = media.video_size(self.input.get("aspect_ratio"))
            dur = self.duration()
            data = media.mp4(dur, seed, vw, vh)
            extra = {"width": vw, "height": vh, "duration": float(int(max(1, dur) + 0.999))}
        elif kind == "audio":
            dur = self.duration()
            data = media.wav(dur, seed)
            extra = {"duration": dur}
        elif kind == "glb":
            data = media.glb(seed)
        elif kind == "json":
            data = json.dumps({"sandbox": True, "input": self.input}, default=str).encode()
        else:
            data = media.seeded(self.model.endpoint_id, seed).randbytes(4096)
        content_type, ext = _CT[kind]
        file_name = f"{name}_{index}.{ext}" if index else f"{name}.{ext}"
        if self.options.large_output and index == 0:
            stored = self.storage.put_blob(
                self.options.large_output, file_name, content_type, f"large:{seed}"
            )
        else:
            stored = self.storage.put_bytes(data, file_name, content_type)
        if self.options.hostile_names:
            stored.name = f"../../x.{ext}"
            stored.url_name = f"..%2F..%2Fx.{ext}"
        url = Storage.url(self.cdn_base, stored)
        if self.input.get("sync_mode") is True and stored.path is not None:
            url = f"data:{content_type};base64," + base64.b64encode(data).decode()
        out: dict[str, Any] = {"url": url}
        values = {
            "content_type": content_type,
            "file_name": stored.name,
            "file_size": stored.size,
            **extra,
        }
        for key, value in values.items():
            if key in props or (key == "file_name" and self.options.hostile_names):
                out[key] = value
        for key in schema.get("required", []):
            if key not in out:
                out[key] = self.value(key, props.get(key, {}), required=True)
        return out

    # -- schema walk -----------------------------------------------------------------
    def norm(self, schema: dict[str, Any]) -> dict[str, Any]:
        for _ in range(10):
            schema = self.model.resolve(schema)
            if "allOf" in schema and len(schema["allOf"]) >= 1:
                schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
                continue
            if "anyOf" in schema or "oneOf" in schema:
                options: list[Any] = schema.get("anyOf") or schema.get("oneOf") or [{}]
                chosen = next(
                    (o for o in options if self.model.resolve(o).get("type") != "null"), options[0]
                )
                rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                schema = {
                    **self.model.resolve(chosen),
                    **{k: v for k, v in rest.items() if k in ("title",)},
                }
                continue
            break
        return schema

    def is_media(self, schema: dict[str, Any]) -> bool:
        """An optional top-level File (or list of Files) worth filling: media is the point."""
        schema = self.norm(schema)
        if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            schema = self.norm(schema["items"])
        props = schema.get("properties")
        return isinstance(props, dict) and "url" in props and "content_type" in props

    def value(self, name: str, schema: dict[str, Any], required: bool = False) -> Any:
        schema = self.norm(schema)
        typ = schema.get("type")
        props = schema.get("properties")
        if isinstance(props, dict) and "url" in props:
            return self.file(name, schema)
        if "enum" in schema:
            given = self.input.get(name)
            return given if given in schema["enum"] else schema["enum"][0]
        if typ == "object" or props is not None:
            if props is None:
                return {"inference": 0.1} if "tim" in name else {}
            return {
                key: self.value(key, sub, required=True)
                for key, sub in props.items()
                if key in schema.get("required", [])
            }
        if typ == "array":
            items = schema.get("items", {})
            item_schema = self.norm(items) if isinstance(items, dict) else {}
            if (
                isinstance(item_schema.get("properties"), dict)
                and "url" in item_schema["properties"]
            ):
                n = self.count if "image" in name.lower() else 1
                return [self.file(name, item_schema) for _ in range(n)]
            if name == "has_nsfw_concepts":
                return [False] * self.count
            n = max(int(schema.get("minItems", 0)), 1 if required else 0)
            return [self.value(name.rstrip("s"), items) for _ in range(n)]
        if typ == "integer":
            if name == "seed":
                return self.seed
            if name == "duration_ms":
                return int(self.duration() * 1000)
            return int(schema.get("minimum", 0))
        if typ == "number":
            if "duration" in name:
                return self.duration()
            return float(schema.get("minimum", 0.0))
        if typ == "boolean":
            return False
        if typ == "string":
            given = self.input.get(name)
            if isinstance(given, str):
                return given
            return "Sandbox placeholder output (genmedia sandbox, not a real generation)."
        if typ == "null":
            return None
        return None


def build_output(
    model: CatalogModel,
    payload: dict[str, Any],
    seed: int,
    storage: Storage,
    cdn_base: str,
    options: OutputOptions | None = None,
) -> dict[str, Any]:
    """The output object for one request (files are stored on the CDN as a side effect)."""
    schema = model.output_schema
    builder = _Builder(model, payload, seed, storage, cdn_base, options or OutputOptions())
    if schema is None:
        return {"images": [builder.file("image", {"properties": {"url": {}}})], "seed": seed}
    schema = builder.norm(schema)
    out: dict[str, Any] = {}
    props = schema.get("properties", {})
    order = [k for k in schema.get("x-fal-order-properties", []) if k in props]
    for key in order + [k for k in props if k not in order]:
        sub = props[key]
        if (
            key in schema.get("required", [])
            or key in ("seed", "prompt", "timings")
            or builder.is_media(sub)
        ):
            out[key] = builder.value(key, sub, required=True)
    return out
