"""Run orchestration, in the order a run flows:

:func:`run` → :func:`prepare` (provider, schema, typed and checked input) → the
``genmedia_execute`` hook, whose core implementation is
:func:`genmedia.execution.execute` (submit, wait, ``genmedia_job_finished``) →
:func:`finish` (the output sinks). ``--async`` stops after
:func:`genmedia.execution.start` (submit and announce), the first step of ``execute``.
``status --wait``/``--result`` enter at ``genmedia_execute`` with an existing handle, so
both commands wait the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from genmedia import errors
from genmedia.context import AppContext
from genmedia.execution import execute as execute  # the core's genmedia_execute
from genmedia.execution import job_finished, start
from genmedia.execution import resume_command as resume_command
from genmedia.hookspecs import JSON_NULL
from genmedia.plugins import ImplFailure
from genmedia.provider import Provider
from genmedia.redact import redact
from genmedia.types import (
    ModelSchema,
    RunRequest,
    RunResult,
)


def run(
    ctx: AppContext,
    request: RunRequest,
    *,
    options: Sequence[str] = (),
    check_names: Collection[str] = (),
) -> tuple[dict[str, Any], int, RunResult | None]:
    """``genmedia run``: the JSON document to print, the exit code, and the finished run
    (None for ``--dry-run`` and ``--async``)."""
    provider, _schema = prepare(ctx, request, options=options, check_names=check_names)
    if request.options.dry_run:
        doc: dict[str, Any] = {
            "status": "dry_run",
            "endpoint_id": request.endpoint_id,
            "provider": provider.name,
            "input": request.input,
        }
        try:
            estimate = provider.estimate(request)
        except errors.GenmediaError as exc:
            doc["estimate_error"] = exc.message
        else:
            if estimate is not None:
                doc["estimate"] = estimate
        return doc, 0, None
    if not request.options.wait:
        ignored = [
            f"--{k.replace('_', '-')}"
            for k, v in request.extra.items()
            if v and k not in provider.options  # the provider's own run options apply
        ]
        if ignored:
            ctx.warn(
                f"{', '.join(ignored)} ignored with --async: the result does not exist yet "
                "(use genmedia status ENDPOINT REQUEST_ID with it later)"
            )
        handle = start(ctx, provider, request)  # submit and announce, as genmedia_execute
        return (
            {
                "status": "submitted",
                "request_id": handle.request_id,
                "endpoint_id": handle.endpoint_id,
                "hint": f"Check status: {ctx.invocation} status {handle.endpoint_id} "
                f"{handle.request_id}",
            },
            0,
            None,
        )
    result = ctx.pm.hook.genmedia_execute(request=request, provider=provider, handle=None, ctx=ctx)
    doc, code = finish(ctx, result, request.extra)
    return doc, code, result


def prepare(
    ctx: AppContext,
    request: RunRequest,
    *,
    options: Sequence[str] = (),
    check_names: Collection[str] = (),
) -> tuple[Provider, ModelSchema | None]:
    """Everything before paying: provider, schema, typed and validated input.

    ``check_names``: input names given as flags, checked for typos against the schema's
    fields and ``options`` (the command's own options) before anything else.

    A schema served from a cache (``from_cache``) that rejects the input is fetched again
    once and the input checked again, so a stale cache never rejects a valid input; when
    that fetch fails, the first rejection is reported.
    """
    provider = choose_provider(ctx, request)
    if not request.options.dry_run:
        # A run that will be paid for needs credentials: say so before any request.
        provider.require_credentials()
    refresh = request.options.refresh_schema
    schema = load_schema(ctx, provider, request.endpoint_id, refresh=refresh)
    given = copy.deepcopy(request.input)  # the --input file's values, before typing
    try:
        _check_input(ctx, request, provider, schema, options, check_names)
    except (errors.ValidationError, errors.UsageError) as rejected:
        if schema is None or not schema.from_cache:
            raise
        try:
            schema = load_schema(ctx, provider, request.endpoint_id, refresh=True, quiet=True)
        except errors.GenmediaError:
            raise rejected from None
        if schema is None or schema.from_cache:
            raise
        request.input = given
        _check_input(ctx, request, provider, schema, options, check_names)
    return provider, schema


def _check_input(
    ctx: AppContext,
    request: RunRequest,
    provider: Provider,
    schema: ModelSchema | None,
    options: Sequence[str],
    check_names: Collection[str],
) -> None:
    """Type-check the input names and values against ``schema``; validate and upload
    (``genmedia_prepare_request``; uploads happen only once the input is valid)."""
    check_input_names(request, schema, options, check_names)
    coerce_inputs(ctx, request, schema)
    ctx.pm.hook.genmedia_prepare_request(request=request, schema=schema, provider=provider, ctx=ctx)


def choose_provider(ctx: AppContext, request: RunRequest) -> Provider:
    """``--provider NAME`` if given, else ``genmedia_resolve_provider``."""
    if request.provider:
        return ctx.provider(request.provider)
    return ctx.resolve_provider(request.endpoint_id)


def load_schema(
    ctx: AppContext,
    provider: Provider,
    endpoint_id: str,
    *,
    refresh: bool = False,
    quiet: bool = False,
) -> ModelSchema | None:
    """The model's schema through ``genmedia_get_schema``; None if the provider has none.

    ``refresh``: do not use a cached copy. ``quiet``: raise every error instead of warning
    and returning None.
    An unknown endpoint's error carries ``details.suggestions``: the closest catalog ids.
    """
    try:
        schema = ctx.pm.hook.genmedia_get_schema(
            endpoint_id=endpoint_id, provider=provider, ctx=ctx, refresh=refresh
        )
    except errors.NotFoundError as exc:
        if isinstance(exc.details, dict) and "suggestions" not in exc.details:
            suggestions = suggest_endpoints(provider, endpoint_id)
            if suggestions:
                exc.add_details(
                    suggestions=suggestions,
                    hint=f"did you mean {suggestions[0]}? Search with: genmedia models "
                    f'"{_words(endpoint_id)}"',
                )
        raise
    except (errors.AuthError, errors.UsageError):
        raise
    except errors.GenmediaError as exc:
        if quiet:
            raise
        ctx.warn(f"could not load the schema of {endpoint_id} ({exc}); inputs are not checked")
        return None
    return schema  # type: ignore[no-any-return]


def suggest_endpoints(provider: Provider, endpoint_id: str, limit: int = 5) -> list[str]:
    """The catalog ids closest to ``endpoint_id`` (searched by its words); [] on any error."""
    import difflib

    from genmedia.types import ModelQuery

    try:
        page = provider.search(ModelQuery(query=_words(endpoint_id), status=None, limit=50))
    except Exception:
        return []
    ids = [m.endpoint_id for m in page.models if m.endpoint_id]
    ids = [i for i in dict.fromkeys(ids) if i != endpoint_id]
    if not ids:
        return []
    return sorted(ids, key=lambda i: -difflib.SequenceMatcher(None, endpoint_id, i).ratio())[:limit]


def _words(endpoint_id: str) -> str:
    """The words of an endpoint id to search the catalog with, its owner left out
    (``owner/flux/dve`` → ``flux dve``)."""
    import re

    _owner, sep, rest = endpoint_id.partition("/")
    words = [w for w in re.split(r"[/\-_.\s]+", rest if sep and rest else endpoint_id) if w]
    return " ".join(words) or endpoint_id


def check_input_names(
    request: RunRequest,
    schema: ModelSchema | None,
    options: Sequence[str] = (),
    names: Collection[str] = (),
) -> None:
    """A model input flag that is neither a schema field nor known is a usage error with
    "did you mean" when something close exists (``--promt`` → ``--prompt``, ``--downlod``
    → ``--download``); nothing is submitted."""
    import difflib

    if schema is None or schema.input is None:
        return
    fields = [f.name for f in schema.input]
    candidates = [f"--{f}" for f in fields] + [o for o in options if o.startswith("--")]
    for name, _raw in request.raw_args:
        if name not in names or name in fields:
            continue
        close = difflib.get_close_matches(f"--{name}", candidates, n=3, cutoff=0.75)
        if not close:
            continue
        raise errors.UsageError(
            f"Unknown input --{name}: did you mean {close[0]}?",
            {
                "endpoint_id": request.endpoint_id,
                "option": f"--{name}",
                "did_you_mean": close,
                "hint": f"see the model's inputs: genmedia schema {request.endpoint_id} "
                f"(to send --{name} as it is anyway: -i {name}=VALUE)",
            },
        )


def coerce_inputs(ctx: AppContext, request: RunRequest, schema: ModelSchema | None) -> None:
    """Type every ``--name value`` pair through ``genmedia_coerce_argument``.

    A name given several times becomes a list (lists are concatenated), which is how array
    inputs are given by repeating a flag; repeating a non-array field is a usage error.
    """
    collected: dict[str, list[Any]] = {}
    for name, raw in request.raw_args:
        field = schema.field(name) if schema is not None else None
        value = ctx.pm.hook.genmedia_coerce_argument(name=name, raw=raw, field=field, ctx=ctx)
        collected.setdefault(name, []).append(None if value is JSON_NULL else value)
    for name, values in collected.items():
        field = schema.field(name) if schema is not None else None
        is_array = field is not None and field.type.startswith("array")
        if len(values) == 1:
            request.input[name] = values[0]
        elif is_array or field is None:
            merged: list[Any] = []
            for v in values:
                merged.extend(v if isinstance(v, list) else [v])
            request.input[name] = merged
        else:
            raise errors.UsageError(
                f"--{name} was given {len(values)} times but takes one value",
                {"field": name, "values": values},
            )


def _next_command(ctx: AppContext, job: Any, flag: str) -> str:
    from genmedia.output import next_command

    return next_command(ctx, job, flag)


def finish(
    ctx: AppContext, result: RunResult, options: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    """Build the output document and run the output sinks (``genmedia_handle_result``,
    guarded: a sink that raises is a ``sink_errors`` entry and exit code 1).

    Returns the document and the exit code sinks asked for (0 when all went well).
    """
    doc: dict[str, Any] = {
        "status": result.status,
        "endpoint_id": result.endpoint_id,
        "request_id": result.request_id,
        "result": result.result,
    }
    try:
        results = ctx.pm.hook.genmedia_handle_result(result=result, options=dict(options), ctx=ctx)
    except KeyboardInterrupt:
        stopped = errors.Interrupted(
            f"Interrupted: request {result.request_id} on {result.endpoint_id}",
            {
                "endpoint_id": result.endpoint_id,
                "request_id": result.request_id,
                "job": "completed; its result can be fetched again",
                "resume": _next_command(ctx, result, "--result"),
            },
        )
        if result.handle is not None:  # the run did not end as completed after all
            request = RunRequest(endpoint_id=result.endpoint_id, input=dict(result.input))
            job_finished(ctx, result.handle, request, stopped)
        raise stopped from None
    sink_errors = []
    exit_code = 0
    for contribution in results:  # in pluggy's calling order
        if isinstance(contribution, ImplFailure):  # one sink must not lose the run
            error = redact(f"{type(contribution.error).__name__}: {contribution.error}")
            failure = {"plugin": contribution.plugin, "error": error}
            if ctx.debug:
                ctx.print_traceback(contribution.error)
                if ctx.json_mode:
                    failure["traceback"] = ctx.tracebacks[-1]
            sink_errors.append(failure)
            exit_code = exit_code or errors.EXIT_ERROR
            continue
        if contribution:
            contribution = dict(contribution)
            code = contribution.pop("exit_code", 0)
            exit_code = exit_code or int(code or 0)
            doc.update(contribution)
    if result.logs and ctx.stream_logs:
        doc["logs"] = result.logs
    if sink_errors:
        doc["sink_errors"] = sink_errors
    return doc, exit_code
