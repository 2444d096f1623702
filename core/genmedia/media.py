"""What sinks and viewers read from a run's output: its media references and its seed;
and the name of a saved file's provenance sidecar, the same for every sink.

Public through :mod:`genmedia.types` as well (``from genmedia.types import iter_media``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs


@attrs.frozen
class MediaRef:
    """A media reference found in a result: an object with an http(s) ``url``.

    ``json_path`` is upstream's path (``images[0]``, ``video``, ``outputs[1].image``;
    ``result`` for the root), ``index`` the 0-based position in depth-first walk order."""

    url: str
    json_path: str
    index: int
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None


def iter_media(value: Any, path: str = "") -> Iterator[MediaRef]:
    """Walk ``value`` depth first in key order and yield every media reference.

    An object is a reference when it has a string ``url`` starting with ``http://`` or
    ``https://`` (case-insensitive); the walk continues into its other keys. Bare URL
    strings are not references (upstream's rule).
    """
    counter = [0]
    yield from _walk(value, path, counter)


def _walk(value: Any, path: str, counter: list[int]) -> Iterator[MediaRef]:
    if isinstance(value, Mapping):
        url = value.get("url")
        if isinstance(url, str) and url[:8].lower().startswith(("http://", "https://")):
            size = value.get("file_size")
            name = value.get("file_name")
            ctype = value.get("content_type")
            yield MediaRef(
                url=url,
                json_path=path or "result",
                index=counter[0],
                content_type=ctype if isinstance(ctype, str) and ctype else None,
                file_name=name if isinstance(name, str) and name else None,
                file_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
            counter[0] += 1
        for key, child in value.items():
            if key == "url":
                continue
            yield from _walk(child, f"{path}.{key}" if path else str(key), counter)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _walk(child, f"{path}[{i}]", counter)


def seed_of(output: Any, input: Any, kinds: tuple[type, ...] = (int, str)) -> Any:
    """The seed of a run: the ``seed`` the model reported in its ``output``, else the one in
    its ``input``; None when neither has one.

    Only values of ``kinds`` count (a bool never does): a value of another kind is skipped
    as if it were missing. ``(object,)`` takes any value."""
    for source in (output, input):
        seed = source.get("seed") if isinstance(source, Mapping) else None
        if seed is not None and isinstance(seed, kinds) and not isinstance(seed, bool):
            return seed
    return None


#: what a saved file's sidecar adds to its name: ``cat.png`` -> ``cat.png.json``.
SIDECAR_SUFFIX = ".json"


def sidecar_name(name: str) -> str:
    """The name of the provenance sidecar of a file (or object key) named ``name``: the same
    name plus ``.json``, so a sidecar sorts beside its file wherever a sink saves them."""
    return name + SIDECAR_SUFFIX
