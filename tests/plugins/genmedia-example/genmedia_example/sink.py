"""genmedia-example's output sink: a manifest of the files a run saved.

A complete third-party output sink in two hooks:

* ``genmedia_add_options`` adds ``--example-manifest PATH`` to ``run`` and ``status``;
* ``genmedia_handle_result`` (``trylast``, so it runs after the built-in ``download``
  sink) reads the saved files from ``result.saved_files`` (the typed channel) and writes a
  JSON manifest to PATH, then contributes ``{"example_manifest": {...}}`` to the output.

Setting ``GENMEDIA_EXAMPLE_SINK_FAIL=1`` makes it raise, to show that a failing sink
never loses the run: the core still prints the result and request id, lists the failure
in ``sink_errors`` and exits 1.

This module is imported on every genmedia command (it is an entry point), so it imports
only click and the core's marker at module level.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import click

from genmedia import hookimpl

FAIL_ENV = "GENMEDIA_EXAMPLE_SINK_FAIL"


@hookimpl
def genmedia_add_options(command_name: str) -> list[click.Parameter] | None:
    if command_name not in ("run", "status"):
        return None
    return [
        click.Option(
            ["--example-manifest"],
            metavar="PATH",
            default=None,
            help="(genmedia-example) Write a JSON manifest of the downloaded files to PATH.",
        )
    ]


@hookimpl(trylast=True)
def genmedia_handle_result(
    result: Any, options: Mapping[str, Any], ctx: Any
) -> dict[str, Any] | None:
    target = options.get("example_manifest")
    if not target:
        return None
    if os.environ.get(FAIL_ENV, "").strip().lower() in ("1", "true", "yes"):
        raise RuntimeError(f"example sink failure requested by {FAIL_ENV}")
    # What earlier sinks saved (e.g. --download): SavedFile / SaveFailure objects.
    files = [_plain(f) for f in result.saved_files]
    manifest = {
        "endpoint_id": result.endpoint_id,
        "request_id": result.request_id,
        "files": [
            {k: f.get(k) for k in ("path", "size_bytes", "sha256", "content_type", "json_path")}
            for f in files
        ],
        "failures": [_plain(f) for f in result.save_failures],
    }
    path = os.path.abspath(target)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
    return {"example_manifest": {"path": path, "files": len(files)}}


def _plain(value: Any) -> dict[str, Any]:
    """A SavedFile/SaveFailure (attrs) or an already-plain dict, as a dict."""
    if isinstance(value, dict):
        return value
    from genmedia.serialization import unstructure

    return unstructure(value)  # type: ignore[no-any-return]


__all__ = ["genmedia_add_options", "genmedia_handle_result"]
