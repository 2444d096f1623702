"""The one cattrs converter. Every JSON document genmedia prints goes through it.

Rules:
- attrs classes are unstructured to dicts in field order; ``None`` fields are omitted
  (upstream genmedia omits undefined keys), except where a class lists a field in
  ``__genmedia_keep_none__``, and ``False`` flags listed in ``__genmedia_omit_false__``
  are omitted too (extra markers that would only be noise when false);
- :data:`genmedia.types.MISSING` defaults are omitted, and so are fields declared with
  ``metadata={"json": False}`` (raw documents kept for plugins, not for output);
- a mapping field declared with ``metadata={"flatten": True}`` (provider-specific
  ``extra``) is merged into its object, its ``None`` values omitted;
- anything else (dicts, lists, plain values) passes through, with nested attrs objects
  unstructured on the way.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import attrs
import cattrs

from genmedia import types as t


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()

    def unstructure_attrs(obj: Any) -> dict[str, Any]:
        keep = getattr(type(obj), "__genmedia_keep_none__", ())
        quiet = getattr(type(obj), "__genmedia_omit_false__", ())
        out: dict[str, Any] = {}
        for a in attrs.fields(type(obj)):
            if a.name.startswith("_") or not a.metadata.get("json", True):
                continue
            value = getattr(obj, a.name)
            if a.metadata.get("flatten"):
                for key, item in (value or {}).items():
                    if item is not None and key not in out:
                        out[key] = conv.unstructure(item)
                continue
            if value is t.MISSING or (value is None and a.name not in keep):
                continue
            if value is False and a.name in quiet:
                continue
            out[a.name] = conv.unstructure(value)
        return out

    conv.register_unstructure_hook_func(attrs.has, unstructure_attrs)
    conv.register_unstructure_hook(t._Missing, lambda _: None)
    conv.register_unstructure_hook(tuple, lambda v: [conv.unstructure(x) for x in v])
    return conv


@functools.lru_cache(maxsize=1)
def converter() -> cattrs.Converter:
    """The converter, built on first use (cattrs is not imported by ``genmedia --help``)."""
    return _make_converter()


def unstructure(obj: Any) -> Any:
    """attrs objects (possibly nested in dicts and lists) → JSON-ready values."""
    return converter().unstructure(obj)


def structure(data: Any, cls: type[Any]) -> Any:
    """JSON-ready values → an attrs class (used for HTTP bodies and the journal)."""
    return converter().structure(data, cls)


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """Serialise ``obj`` to JSON text the way genmedia prints it (2-space indent)."""
    return json.dumps(unstructure(obj), indent=indent, ensure_ascii=False, default=str)
