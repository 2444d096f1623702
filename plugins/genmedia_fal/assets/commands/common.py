"""Shared pieces of the assets commands: options, list flags, targets, confirmation.

Imports click only (this module is loaded to build ``genmedia --help``); the client, the
models and rich are imported inside command callbacks.

Every option is spelled as upstream does (snake_case, ``--media_type``) and also accepts
the kebab-case alias (``--media-type``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia_fal.assets.client import AssetsClient

F = TypeVar("F", bound=Callable[..., Any])

MEDIA_TYPES = ("image", "video", "audio", "3d")
SOURCES = ("upload", "response")
SECTIONS = ("all-media", "uploads", "favorites", "generated")
TAG_MODES = ("any", "all")


def names(flag: str) -> list[str]:
    """``"media_type"`` → ``["--media_type", "--media-type"]`` (one name if no underscore)."""
    out = [f"--{flag}"]
    if "_" in flag:
        out.append(f"--{flag.replace('_', '-')}")
    return out


def option(flag: str, dest: str | None = None, **kw: Any) -> Callable[[F], F]:
    """A click option with upstream's snake_case spelling and its kebab-case alias."""
    return click.option(*names(flag), dest or flag, **kw)


class ListValue(click.ParamType):  # type: ignore[type-arg]
    """One occurrence of a list flag: ``a,b`` → ``["a", "b"]`` (items optionally checked)."""

    name = "list"

    def __init__(self, choices: Iterable[str] | None = None) -> None:
        self.choices = tuple(choices) if choices is not None else None

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.choices) + "],…" if self.choices else "VALUE[,VALUE…]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        items = [item.strip() for item in str(value).split(",")]
        items = [item for item in items if item]
        if self.choices is not None:
            for item in items:
                if item not in self.choices:
                    self.fail(
                        f"{item!r} is not one of {', '.join(map(repr, self.choices))}.", param, ctx
                    )
        return items


def list_option(flag: str, help: str, choices: Iterable[str] | None = None) -> Callable[[F], F]:
    """A repeatable flag that also takes comma-separated values."""
    return option(
        flag,
        type=ListValue(choices),
        multiple=True,
        help=f"{help} Repeat the flag or pass comma-separated values.",
    )


def flatten(groups: Iterable[list[str]] | None) -> list[str]:
    """The values of a :func:`list_option`, in order, without duplicates."""
    out: list[str] = []
    for group in groups or ():
        for item in group:
            if item not in out:
                out.append(item)
    return out


def _header_token(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """An HTTP header value: printable ASCII, at most 255 characters."""
    if value is None:
        return value
    if not value or len(value) > 255 or not all(33 <= ord(c) <= 126 for c in value):
        raise click.BadParameter(
            "must be 1 to 255 printable ASCII characters without spaces (e.g. a UUID)",
            ctx=ctx,
            param=param,
        )
    return value


def idempotency_option(fn: F) -> F:
    return option(
        "idempotency_key",
        metavar="KEY",
        callback=_header_token,
        help="Idempotency-Key header value (default: a new UUID per invocation, reused on "
        "retries). Re-run with the same key to retry a change safely.",
    )(fn)


def target_options(fn: F) -> F:
    """``--vector_id`` / ``--request_id``: the asset a command acts on (exactly one)."""
    fn = option(
        "request_id",
        metavar="ID",
        help="Target the media of this request (from `genmedia run` / `status`).",
    )(fn)
    return option(
        "vector_id",
        metavar="ID",
        help="Target this library asset (from `assets browse` / `get` / `upload`).",
    )(fn)


def resolve_target(request_id: str | None, vector_id: str | None) -> dict[str, str]:
    """Exactly one of the two, or upstream's error (a usage error, exit 2)."""
    from genmedia import errors

    given = {k: v for k, v in (("request_id", request_id), ("vector_id", vector_id)) if v}
    if len(given) != 1:
        raise errors.UsageError(
            "Provide exactly one of --request_id or --vector_id",
            {"request_id": request_id or None, "vector_id": vector_id or None},
        )
    return given


def yes_option(fn: F) -> F:
    return click.option(
        "-y", "--yes", is_flag=True, help="Do not ask for confirmation (required without a TTY)."
    )(fn)


def stdin_is_tty(app: AppContext) -> bool:
    try:
        return bool(app.stdin.isatty())
    except (AttributeError, ValueError):
        return False


def confirm_delete(app: AppContext, what: str, yes: bool) -> None:
    """Ask before deleting. Without a terminal to ask on, ``--yes`` is required.

    Refusing (exit 2) is the safe choice for scripts: a delete never happens because
    nobody could be asked, and the error says exactly which flag to add.
    """
    from genmedia import errors

    if yes:
        return
    if not stdin_is_tty(app):
        raise errors.UsageError(
            f"Refusing to delete {what} without confirmation: pass --yes",
            {"hint": "stdin is not a terminal, so genmedia cannot ask; add --yes (-y)."},
        )
    app.prompted = True
    if not click.confirm(f"Delete {what}?", default=False, err=True):
        raise errors.UsageError(f"Not deleted: {what}", {"hint": "Pass --yes to skip the prompt."})


def with_client(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Pass ``(app, client)`` to the callback; ``idempotency_key`` becomes the client's."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from genmedia.cli import get_app
        from genmedia_fal.assets.client import AssetsClient
        from genmedia_fal.provider import fal_provider

        app = get_app(click.get_current_context())
        fal = fal_provider(app).client
        client = AssetsClient(fal, idempotency_key=kwargs.pop("idempotency_key", None))
        return fn(app, client, *args, **kwargs)

    return wrapper


def emit(app: AppContext, doc: Any, pretty: Callable[[Any, Any], None] | None = None) -> None:
    from genmedia.output import emit as core_emit

    core_emit(app, doc, pretty=pretty)


def call(client: AssetsClient, method: str, path: str, cls: type[Any], **kw: Any) -> Any:
    """One API call, its body structured as ``cls``."""
    from genmedia_fal.assets.client import structure_response

    data = client.request(method, path, **kw)
    return structure_response(data, cls, method, path)
