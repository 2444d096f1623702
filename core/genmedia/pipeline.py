"""Run orchestration: resolve provider → schema → coerce → prepare → execute → sinks.

Commands call :func:`run` and :func:`finish`; the stages are hooks so plugins can add to or
replace any of them. :func:`wait_for_result` is the waiting loop shared by ``run`` (through
the core's ``genmedia_execute``) and ``status --wait``.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from genmedia import errors
from genmedia.context import AppContext
from genmedia.hookspecs import JSON_NULL
from genmedia.plugins import call_guarded as notify
from genmedia.plugins import plain_impls
from genmedia.redact import redact
from genmedia.types import (
    JobHandle,
    JobStatus,
    LogEntry,
    ModelSchema,
    Provider,
    RunRequest,
    RunResult,
)


def load_schema(ctx: AppContext, provider: Provider, endpoint_id: str) -> ModelSchema | None:
    """The model's schema through ``genmedia_get_schema``; None if the provider has none.

    An unknown endpoint's error carries ``details.suggestions``: the closest catalog ids.
    """
    try:
        schema = ctx.pm.hook.genmedia_get_schema(
            endpoint_id=endpoint_id, provider=provider, ctx=ctx
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
        ctx.warn(f"could not load the schema of {endpoint_id} ({exc}); inputs are not checked")
        return None
    return schema  # type: ignore[no-any-return]


def _words(endpoint_id: str) -> str:
    import re

    words = [w for w in re.split(r"[/\-_.\s]+", endpoint_id) if w and w != "fal-ai"]
    return " ".join(words) or endpoint_id


def suggest_endpoints(provider: Provider, endpoint_id: str, limit: int = 5) -> list[str]:
    """The catalog ids closest to ``endpoint_id`` (searched by its words); [] on any error."""
    import difflib

    from genmedia.types import ModelQuery

    search = getattr(provider, "search", None)
    if not callable(search):
        return []
    try:
        page = search(ModelQuery(query=_words(endpoint_id), status=None, limit=50))
    except Exception:
        return []
    ids = [m.endpoint_id for m in page.models if m.endpoint_id]
    ids = [i for i in dict.fromkeys(ids) if i != endpoint_id]
    if not ids:
        return []
    return sorted(ids, key=lambda i: -difflib.SequenceMatcher(None, endpoint_id, i).ratio())[:limit]


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


def choose_provider(ctx: AppContext, request: RunRequest) -> Provider:
    """``--provider NAME`` if given, else ``genmedia_resolve_provider``."""
    if request.provider:
        return ctx.provider(request.provider)
    return ctx.resolve_provider(request.endpoint_id)


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
    """
    provider = choose_provider(ctx, request)
    if not request.options.dry_run:
        # A run that will be paid for needs credentials: say so before any request.
        require = getattr(provider, "require_credentials", None)
        if callable(require):
            require()
    schema = load_schema(ctx, provider, request.endpoint_id)
    check_input_names(request, schema, options, check_names)
    coerce_inputs(ctx, request, schema)
    ctx.pm.hook.genmedia_prepare_request(request=request, schema=schema, provider=provider, ctx=ctx)
    return provider, schema


def announce_submitted(ctx: AppContext, handle: JobHandle) -> None:
    """The request id, the moment it exists: remembered for any later error (which then
    carries ``details.request_id`` and ``details.next``), streamed as a ``submitted``
    event with ``--events`` in JSON mode, a line on stderr in pretty mode."""
    ctx.current_job = handle
    if ctx.json_mode:
        ctx.event(
            "submitted",
            endpoint_id=handle.endpoint_id,
            request_id=handle.request_id,
            next=resume_command(handle, ctx),
        )
        return
    from genmedia.output import esc, stderr_console

    stderr_console(ctx).print(
        f"[dim]submitted[/] {esc(handle.endpoint_id)} [bold]{esc(handle.request_id)}[/]",
        markup=True,
    )


def resume_command(handle: JobHandle, ctx: AppContext | None = None) -> str:
    """The command that reattaches to ``handle`` (with ``--sandbox`` for a sandbox job)."""
    if ctx is None:
        return f"genmedia status {handle.endpoint_id} {handle.request_id} --wait"
    from genmedia.output import next_command

    return next_command(ctx, handle)


def _next_command(ctx: AppContext, job: Any, flag: str) -> str:
    from genmedia.output import next_command

    return next_command(ctx, job, flag)


def wait_for_result(
    ctx: AppContext, provider: Provider, handle: JobHandle, request: RunRequest
) -> RunResult:
    """Follow the job to completion and fetch its result.

    Enforces ``--timeout``; Ctrl-C or a timeout prints the request id and the command that
    resumes the job (cancelling first with ``--cancel-on-interrupt``).
    """
    options = request.options
    deadline = time.monotonic() + options.timeout if options.timeout else None
    seen: set[tuple[str | None, str, str]] = set()
    logs: list[LogEntry] = []
    last: JobStatus | None = None
    try:
        for status in provider.watch(handle, logs=True, deadline=deadline):
            fresh = [e for e in status.logs or () if e.key not in seen]
            seen.update(e.key for e in fresh)
            logs.extend(fresh)
            last = status
            notify(
                ctx,
                "genmedia_job_progress",
                handle=handle,
                status=_with_logs(status, fresh),
                ctx=ctx,
            )
            if status.done:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise errors.TimeoutExpired(f"Timed out after {options.timeout:g}s")
        else:
            if deadline is not None and time.monotonic() >= deadline:
                raise errors.TimeoutExpired(f"Timed out after {options.timeout:g}s")
    except KeyboardInterrupt:
        raise _stopped(ctx, provider, handle, request, errors.Interrupted("Interrupted")) from None
    except errors.TimeoutExpired as exc:
        raise _stopped(ctx, provider, handle, request, exc) from None
    if last is not None and last.error:
        # The result call carries the model's own status and body (e.g. a 422 detail
        # list): prefer that error, with the job's identity and last log lines added.
        try:
            provider.result(handle)
        except errors.GenmediaError as exc:
            exc.add_details(
                endpoint_id=handle.endpoint_id,
                request_id=handle.request_id,
                error_type=last.error_type,
                logs=logs[-10:] or None,
            )
            raise
        raise errors.JobFailedError(
            f"Job failed: {last.error}",
            {
                "endpoint_id": handle.endpoint_id,
                "request_id": handle.request_id,
                "error_type": last.error_type,
                "logs": logs[-10:],
            },
        )
    try:
        result = provider.result(handle)
    except errors.GenmediaError as exc:
        exc.add_details(endpoint_id=handle.endpoint_id, request_id=handle.request_id)
        if logs and isinstance(exc.details, dict):
            exc.details.setdefault("logs", logs[-10:])
        raise
    result.logs = logs or result.logs
    result.input = result.input or request.input
    return result


def _with_logs(status: JobStatus, fresh: list[LogEntry]) -> JobStatus:
    import attrs

    return attrs.evolve(status, logs=fresh)


def _stopped(
    ctx: AppContext,
    provider: Provider,
    handle: JobHandle,
    request: RunRequest,
    exc: errors.GenmediaError,
) -> errors.GenmediaError:
    details: dict[str, Any] = {"endpoint_id": handle.endpoint_id, "request_id": handle.request_id}
    if request.options.cancel_on_interrupt:
        try:
            details["cancel"] = provider.cancel(handle)
            details["final_status"] = provider.status(handle, logs=False).status
        except Exception as cancel_exc:
            details["cancel_error"] = str(cancel_exc)
    else:
        details["job"] = "still running; nothing was cancelled"
        details["resume"] = resume_command(handle, ctx)
    kind = "Interrupted" if isinstance(exc, errors.Interrupted) else exc.message
    exc.message = f"{kind}: request {handle.request_id} on {handle.endpoint_id}"
    exc.args = (exc.message,)
    exc.details = details
    return exc


def execute(ctx: AppContext, provider: Provider, request: RunRequest) -> RunResult:
    """The core's ``genmedia_execute``: submit, announce, wait, fetch."""
    handle = submit(ctx, provider, request)
    return wait_for_result(ctx, provider, handle, request)


def submit(ctx: AppContext, provider: Provider, request: RunRequest) -> JobHandle:
    """Submit, then announce the job; from the moment a handle exists, Ctrl-C reports its
    request id and the resume command (even during a slow journal write)."""
    try:
        handle = provider.submit(request)
    except KeyboardInterrupt:
        raise errors.Interrupted(
            f"Interrupted while submitting to {request.endpoint_id}: a job may exist",
            {
                "endpoint_id": request.endpoint_id,
                "hint": "the submit request may have reached the host before Ctrl-C; check "
                "your requests on the provider's dashboard before running again",
            },
        ) from None
    try:
        announce_submitted(ctx, handle)
        notify(ctx, "genmedia_job_submitted", handle=handle, request=request, ctx=ctx)
    except KeyboardInterrupt:
        raise _stopped(ctx, provider, handle, request, errors.Interrupted("Interrupted")) from None
    return handle


def run(
    ctx: AppContext,
    request: RunRequest,
    *,
    options: Sequence[str] = (),
    check_names: Collection[str] = (),
) -> tuple[dict[str, Any], int]:
    """``genmedia run``: the JSON document to print and the exit code."""
    provider, _schema = prepare(ctx, request, options=options, check_names=check_names)
    if request.options.dry_run:
        doc: dict[str, Any] = {
            "status": "dry_run",
            "endpoint_id": request.endpoint_id,
            "provider": provider.name,
            "input": request.input,
        }
        estimate = getattr(provider, "estimate", None)
        if callable(estimate):
            try:
                doc["estimate"] = estimate(request)
            except errors.GenmediaError as exc:
                doc["estimate_error"] = exc.message
        return doc, 0
    if not request.options.wait:
        ignored = [f"--{k.replace('_', '-')}" for k, v in request.extra.items() if v]
        if ignored:
            ctx.warn(
                f"{', '.join(ignored)} ignored with --async: the result does not exist yet "
                "(use genmedia status ENDPOINT REQUEST_ID with it later)"
            )
        handle = submit(ctx, provider, request)
        return {
            "status": "submitted",
            "request_id": handle.request_id,
            "endpoint_id": handle.endpoint_id,
            "hint": f"Check status: {ctx.invocation} status {handle.endpoint_id} "
            f"{handle.request_id}",
        }, 0
    result = ctx.pm.hook.genmedia_execute(request=request, provider=provider, ctx=ctx)
    return finish(ctx, result, request.extra)


def finish(
    ctx: AppContext, result: RunResult, options: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    """Build the output document and run every output sink, each guarded separately.

    Returns the document and the exit code sinks asked for (0 when all went well).
    """
    doc: dict[str, Any] = {
        "status": result.status,
        "endpoint_id": result.endpoint_id,
        "request_id": result.request_id,
        "result": result.result,
    }
    ctx.run_output = doc
    sink_errors = []
    exit_code = 0
    for impl in plain_impls(ctx.pm.hook.genmedia_handle_result):
        kwargs = {"result": result, "options": dict(options), "ctx": ctx}
        try:
            contribution = impl.function(**{k: kwargs[k] for k in impl.argnames})
        except KeyboardInterrupt:
            raise errors.Interrupted(
                f"Interrupted: request {result.request_id} on {result.endpoint_id}",
                {
                    "endpoint_id": result.endpoint_id,
                    "request_id": result.request_id,
                    "job": "completed; its result can be fetched again",
                    "resume": _next_command(ctx, result, "--result"),
                },
            ) from None
        except Exception as exc:  # one sink must not lose the run, --debug or not
            error = redact(f"{type(exc).__name__}: {exc}")
            failure = {"plugin": impl.plugin_name, "error": error}
            if ctx.debug:
                ctx.print_traceback(exc)
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
