"""``genmedia_prepare_request``: validate the input, then upload local files.

1. Validation (when the provider gave a schema): unknown fields, missing required fields,
   types, enums, ranges → :class:`genmedia.errors.ValidationError` with
   ``validation_errors`` in the shape of a model's 422, before anything is paid for. A URL
   field holding text that is neither a URL nor an existing file is reported too.
2. Uploads (unless ``--no-upload`` or ``--dry-run``): a local path given for a URL/file
   field (``image_url``, ``image_urls[…]``, fields the schema marks as files) is uploaded
   through ``provider.upload()`` and replaced by its URL. Each upload is announced on
   stderr: an ``{"event": "uploaded", …}`` line in JSON mode with ``--events``, a plain
   line in pretty mode. The same path given twice is uploaded once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genmedia import errors
from genmedia_inputs.validate import Issue, message_for, validate_input

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.provider import Provider
    from genmedia.types import FieldSchema, ModelSchema, RunRequest

URL_PREFIXES = ("http://", "https://", "data:")


def is_remote(value: str) -> bool:
    low = value[:8].lower()
    return low.startswith(URL_PREFIXES) or "://" in value[:16]


def file_fields(schema: ModelSchema | None, payload: dict[str, Any]) -> dict[str, str]:
    """name → ``"one"`` (a URL string) or ``"many"`` (a list of URLs) for file inputs."""
    if schema is not None and schema.input is not None:
        out = {}
        for field in schema.input:
            if field.is_file:
                out[field.name] = "one"
            elif field.items_is_file:
                out[field.name] = "many"
        return out
    # No schema: upstream's naming convention.
    return {
        name: "many" if name.endswith("_urls") else "one"
        for name in payload
        if name.endswith(("_url", "_urls"))
    }


def _local_values(payload: dict[str, Any], fields: dict[str, str]) -> list[tuple[list[Any], str]]:
    """``(location, text)`` of every non-URL string in a file field."""
    found: list[tuple[list[Any], str]] = []
    for name in fields:
        value = payload.get(name)
        if isinstance(value, str) and not is_remote(value):
            found.append(([name], value))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str) and not is_remote(item):
                    found.append(([name, i], item))
    return found


def _missing_files(locals_: list[tuple[list[Any], str]]) -> list[Issue]:
    from genmedia.files import is_file
    from genmedia_inputs.validate import field_path

    issues = []
    for loc, text in locals_:
        if not is_file(text):
            try:
                shown = str(Path(text).expanduser().resolve())
            except (OSError, ValueError, RuntimeError):
                shown = text
            shown = shown if len(shown) <= 200 else shown[:199] + "…"
            issues.append(
                {
                    "field": field_path(loc),
                    "message": f"File not found: {shown} "
                    "(give an http(s) URL or an existing local file)",
                    "type": "file_not_found",
                    "input": text,
                }
            )
    return issues


def loc_of(field: str) -> list[Any]:
    """``loras[0].scale`` → ``["body", "loras", 0, "scale"]`` (FastAPI's ``loc``)."""
    import re

    loc: list[Any] = ["body"]
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field):
        loc.append(int(index) if index else name)
    return loc


def local_validation_error(
    endpoint_id: str | None,
    issues: list[Issue],
    *,
    message: str | None = None,
    hint: str | None = None,
) -> errors.ValidationError:
    """The error a model's 422 would give, found before anything was submitted: the
    same ``status``, ``error_type``, ``validation_errors`` and a ``body`` in fal's
    FastAPI shape (``{"detail": [{"loc", "msg", "type", "input"?}]}``)."""
    detail = []
    for issue in issues:
        item: dict[str, Any] = {
            "loc": loc_of(issue["field"]),
            "msg": issue["message"],
            "type": issue["type"],
        }
        if "input" in issue:
            item["input"] = issue["input"]
        detail.append(item)
    see = f"See the inputs: genmedia schema {endpoint_id}" if endpoint_id else ""
    details: dict[str, Any] = {
        "endpoint_id": endpoint_id,
        "status": 422,
        "error_type": "ValidationError",
        "validation_errors": issues,
        "body": {"detail": detail},
        "source": "local",
        "hint": hint or f"Nothing was submitted. {see}".strip(),
    }
    return errors.ValidationError(
        message or message_for(issues), {k: v for k, v in details.items() if v is not None}
    )


def prepare_request(
    request: RunRequest, schema: ModelSchema | None, provider: Provider, ctx: AppContext
) -> None:
    payload = request.input
    fields = file_fields(schema, payload)
    locals_ = _local_values(payload, fields)
    issues: list[Issue] = []
    if schema is not None and schema.input is not None:
        by_name: dict[str, FieldSchema] = {f.name: f for f in schema.input}
        issues += validate_input(payload, by_name)
    if request.options.upload_files:
        issues += _missing_files(locals_)
    if issues:
        raise local_validation_error(request.endpoint_id, issues)
    if request.options.upload_files and not request.options.dry_run and locals_:
        _upload_all(request, locals_, provider, ctx)


def _upload_all(
    request: RunRequest, locals_: list[tuple[list[Any], str]], provider: Provider, ctx: AppContext
) -> None:
    from genmedia.progress import transfer_progress

    done: dict[str, str] = {}
    for loc, text in locals_:
        key = os.path.realpath(Path(text).expanduser())
        url = done.get(key)
        if url is None:
            with transfer_progress(ctx, f"upload {Path(text).name}") as progress:
                uploaded = provider.upload(str(Path(text).expanduser()), progress=progress)
            url = done[key] = uploaded.url
            request.uploads.append(uploaded)
            _announce(ctx, loc, text, uploaded)
        target: Any = request.input
        for part in loc[:-1]:
            target = target[part]
        target[loc[-1]] = url


def _announce(ctx: AppContext, loc: list[Any], text: str, uploaded: Any) -> None:
    from genmedia_inputs.validate import field_path

    field = field_path(loc)
    if ctx.json_mode:
        ctx.event(
            "uploaded", field=field, path=text, url=uploaded.url, size_bytes=uploaded.size_bytes
        )
        return
    ctx.stderr.write(f"uploaded {text} → {uploaded.url} (--{field})\n")
    ctx.stderr.flush()
