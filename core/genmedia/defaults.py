"""The core's own hook implementations: ``trylast`` fallbacks and the progress listener.

Registered as plugin ``core`` before every other plugin; it cannot be disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from genmedia import errors, hookimpl
from genmedia.context import StashKey

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.provider import Provider
    from genmedia.types import (
        ErrorReport,
        JobHandle,
        JobStatus,
        ModelSchema,
        RunRequest,
        RunResult,
    )


#: the progress listener's last (status, queue position) shown per request id.
PROGRESS_SHOWN: StashKey[dict[str, tuple[str, int | None]]] = StashKey()


@hookimpl(trylast=True)
def genmedia_resolve_provider(
    endpoint_id: str, providers: Mapping[str, Provider], ctx: AppContext
) -> Provider | None:
    scheme, sep, _rest = endpoint_id.partition(":")
    if sep and "/" not in scheme:
        for provider in providers.values():
            if scheme in provider.schemes:
                return provider
        raise errors.UsageError(
            f"No provider for scheme {scheme!r}",
            {"endpoint_id": endpoint_id, "providers": sorted(providers)},
        )
    # Specific providers first, catch-alls (``catch_all = True``, e.g. fal) last.
    ordered = sorted(providers.values(), key=lambda p: bool(p.catch_all))
    for provider in ordered:
        if provider.claims(endpoint_id):
            return provider
    return None


@hookimpl(trylast=True)
def genmedia_get_schema(endpoint_id: str, provider: Provider) -> ModelSchema:
    return provider.schema(endpoint_id)


@hookimpl(trylast=True)
def genmedia_coerce_argument(raw: str) -> str:
    return raw


@hookimpl(trylast=True)
def genmedia_execute(
    request: RunRequest, provider: Provider, handle: JobHandle | None, ctx: AppContext
) -> RunResult:
    from genmedia.execution import execute

    return execute(ctx, provider, request, handle)


@hookimpl
def genmedia_job_progress(handle: JobHandle, status: JobStatus, ctx: AppContext) -> None:
    """Progress on stderr: NDJSON events with ``--events`` in JSON mode, lines on a TTY."""
    if ctx.json_mode:
        ctx.event(
            "status",
            request_id=handle.request_id,
            status=status.status,
            queue_position=status.queue_position,
        )
        for entry in status.logs or ():
            ctx.event(
                "log",
                request_id=handle.request_id,
                level=entry.level,
                message=entry.message,
                timestamp=entry.timestamp,
            )
        return
    from genmedia.output import esc, stderr_console

    console = stderr_console(ctx)
    shown = ctx.stash.setdefault(PROGRESS_SHOWN, {})
    key = (status.status, status.queue_position)
    if shown.get(handle.request_id) != key:
        shown[handle.request_id] = key
        where = f" (position {status.queue_position})" if status.queue_position is not None else ""
        state = esc(status.status.lower().replace("_", " "))
        console.print(f"[cyan]{state}[/]{where}", markup=True)
    for entry in status.logs or ():
        console.print(f"[dim]│ {esc(f'{entry.level:<5}')}[/] {esc(entry.message)}", markup=True)


@hookimpl(trylast=True)
def genmedia_format_error(error: BaseException, ctx: AppContext) -> ErrorReport:
    return format_error(error, debug=ctx.debug)


def format_error(error: BaseException, *, debug: bool = False) -> ErrorReport:
    """The fallback formatting of any exception (also used when plugins cannot load)."""
    import click

    from genmedia.types import ErrorReport

    if isinstance(error, errors.GenmediaError):
        return ErrorReport(error.message, error.details or None, error.exit_code)
    if isinstance(error, click.exceptions.NoSuchOption):
        details: dict[str, Any] = {"option": error.option_name}
        if error.possibilities:
            details["did_you_mean"] = sorted(error.possibilities)
        details.update(_usage_details(error.ctx))
        return ErrorReport(error.format_message(), details, errors.EXIT_USAGE)
    if isinstance(error, click.exceptions.UsageError):
        return ErrorReport(
            error.format_message(), _usage_details(error.ctx) or None, errors.EXIT_USAGE
        )
    if isinstance(error, click.exceptions.ClickException):
        return ErrorReport(error.format_message(), None, error.exit_code or errors.EXIT_ERROR)
    if isinstance(error, (KeyboardInterrupt, click.exceptions.Abort)):
        return ErrorReport("Interrupted", None, errors.EXIT_INTERRUPTED)
    if _is_transport_error(error):
        request = getattr(error, "_request", None)
        url = str(request.url.copy_with(query=None)) if request is not None else None
        return ErrorReport(
            f"Network error: {type(error).__name__}: {error}",
            {"url": url} if url else None,
            errors.EXIT_REMOTE,
        )
    local = _local_refusal(error)
    if local is not None:
        return local
    hint = "This is a bug in genmedia or a plugin; rerun with --debug for a traceback."
    return ErrorReport(
        f"Internal error: {type(error).__name__}: {error}", {"hint": hint}, errors.EXIT_ERROR
    )


def _usage_details(ctx: Any) -> dict[str, Any]:
    """``usage`` (without click's ``Usage:`` prefix) and a ``hint`` naming the help."""
    if ctx is None:
        return {}
    usage = ctx.get_usage().removeprefix("Usage:").strip()
    return {"usage": usage, "hint": f"see: {ctx.command_path} --help"}


def _local_refusal(error: BaseException) -> ErrorReport | None:
    """Values the HTTP layer refused to send (nothing left the machine): usage errors.

    The message never quotes the value: it may be (part of) a key."""
    import sys

    from genmedia.types import ErrorReport

    httpx = sys.modules.get("httpx")
    hint = {"hint": "nothing was sent; check the values given on the command line"}
    if httpx is not None and isinstance(error, httpx.InvalidURL):
        return ErrorReport(f"Invalid URL: {error}", hint, errors.EXIT_USAGE)
    if isinstance(error, ValueError) and "null byte" in str(error):
        return ErrorReport("A path or value holds a NUL byte", hint, errors.EXIT_USAGE)
    if isinstance(error, OSError) and not _is_transport_error(error):
        # the file system refused (a name too long, no permission, a full disk): an
        # environment condition to report, not a bug
        import errno as errno_names

        code = errno_names.errorcode.get(error.errno or 0)
        filename = error.filename if isinstance(error.filename, str) else None
        shown = filename if filename is None or len(filename) <= 200 else filename[:199] + "…"
        message = f"{error.strerror or type(error).__name__}" + (f": {shown}" if shown else "")
        usage = error.errno in (errno_names.ENAMETOOLONG, errno_names.EINVAL)
        return ErrorReport(
            message,
            {k: v for k, v in {"path": shown, "errno": code}.items() if v},
            errors.EXIT_USAGE if usage else errors.EXIT_ERROR,
        )
    if isinstance(error, UnicodeEncodeError):
        return ErrorReport(
            "A value cannot be sent: it holds characters that are not allowed there "
            "(e.g. non-ASCII text in an HTTP header)",
            hint,
            errors.EXIT_USAGE,
        )
    return None


def _is_transport_error(error: BaseException) -> bool:
    import sys

    httpx = sys.modules.get("httpx")  # never import httpx just to format an error
    return httpx is not None and isinstance(error, httpx.TransportError)


def report_error(app: AppContext, exc: BaseException) -> int:
    """The error boundary's report: ``exc`` formatted through ``genmedia_format_error``,
    redacted and printed; returns the exit code."""
    import click

    from genmedia.argv import JSON_META
    from genmedia.output import print_error

    if isinstance(exc, click.exceptions.UsageError) and exc.ctx is not None:
        # The group may not have parsed --json yet when the usage error happened.
        app.json_flag = app.json_flag or bool(exc.ctx.meta.get(JSON_META))
    try:  # per-invocation clean-up first (a journal's last write): its warnings belong
        app.run_close_callbacks()  # in this error's details, before the object is printed
    except BaseException:  # a second interrupt during it: still report the first error
        pass
    report = None
    try:
        if app._pm is not None:
            report = app.pm.hook.genmedia_format_error(error=exc, ctx=app)
    except Exception as hook_exc:
        app.warn(f"error formatting failed: {hook_exc}")
    if report is None:
        report = format_error(exc, debug=app.debug)
    report = _finish_report(report, exc)
    if app.debug and not isinstance(exc, (click.exceptions.UsageError, KeyboardInterrupt)):
        app.print_traceback(exc)  # JSON mode: into details.traceback
    try:
        print_error(app, report)
    except Exception:  # the boundary itself must never throw: plain text as a last resort
        print(f"Error: {report.error}", file=app.stderr)
    return int(report.exit_code)


def _finish_report(report: Any, exc: BaseException) -> Any:
    """The report as printed: the exit code of the signal that stopped us (SIGTERM 143,
    SIGHUP 129), and no secret in any form (:mod:`genmedia.redact`)."""
    import attrs

    from genmedia.redact import redact, redact_value
    from genmedia.signals import apply_signal

    report = apply_signal(report, exc)
    from genmedia.serialization import unstructure

    details = redact_value(unstructure(report.details))
    return attrs.evolve(report, error=redact(report.error), details=details)
