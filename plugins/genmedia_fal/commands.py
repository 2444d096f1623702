"""fal-only commands: ``pricing``, ``docs`` and ``setup``.

The provider-agnostic verbs (run, status, models, schema, upload) live in the core and
reach fal through :class:`genmedia_fal.provider.FalProvider`.
"""

from __future__ import annotations

from typing import Any

import click

from genmedia import errors
from genmedia.cli import get_app, not_an_agent_tool


def _fal(ctx: click.Context) -> Any:
    from genmedia_fal.provider import fal_provider

    return fal_provider(get_app(ctx))


def _split(values: tuple[str, ...]) -> list[str]:
    out: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            if part.strip():
                out[part.strip()] = None
    return list(out)


# --------------------------------------------------------------------------- pricing


@click.command()
@click.argument("endpoint_ids", nargs=-1, required=True, metavar="ENDPOINT...")
@click.option(
    "--estimate",
    "calls",
    type=click.FloatRange(min=0, min_open=True),
    metavar="CALLS",
    help="Also estimate the cost of CALLS calls (each endpoint) at fal's historical price.",
)
@click.option(
    "--units",
    type=click.FloatRange(min=0, min_open=True),
    metavar="N",
    help="Also estimate the cost of N billing units (images, seconds…) at the unit price.",
)
@click.pass_context
def pricing(
    ctx: click.Context, endpoint_ids: tuple[str, ...], calls: float | None, units: float | None
) -> None:
    """Show the price of one or more endpoints (repeat or comma-separate them)."""
    from genmedia import errors
    from genmedia.output import emit

    if calls is not None and units is not None:
        raise errors.UsageError("--estimate and --units cannot be combined")
    app = get_app(ctx)
    fal = _fal(ctx)
    ids = _split(endpoint_ids)
    doc = fal.pricing(ids)
    if calls is not None or units is not None:
        kind = "historical_api_price" if calls is not None else "unit_price"
        quantity = _number(calls if calls is not None else units)
        doc = {**doc, "estimate": fal.platform.estimate_cost(kind, dict.fromkeys(ids, quantity))}
    emit(app, doc, pretty=_render_pricing)


def _number(value: float | None) -> float | int:
    assert value is not None
    return int(value) if float(value).is_integer() else value


def _render_pricing(doc: dict[str, Any], console: Any) -> None:
    from genmedia.output import esc

    for price in doc.get("prices") or ():
        console.print(
            f"[bold]{esc(price.get('endpoint_id'))}[/]: {esc(price.get('unit_price'))} "
            f"{esc(price.get('currency'))} per {esc(price.get('unit'))}",
            markup=True,
        )
    estimate = doc.get("estimate")
    if estimate:
        console.print(
            f"estimate ({estimate.get('estimate_type')}): "
            f"{estimate.get('total_cost')} {estimate.get('currency')}"
        )


# --------------------------------------------------------------------------- docs


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.pass_context
def docs(ctx: click.Context, query: tuple[str, ...]) -> None:
    """Search fal's documentation."""
    from genmedia.output import emit
    from genmedia_fal.docs import search_docs

    app = get_app(ctx)
    emit(app, search_docs(_fal(ctx).client, " ".join(query).strip()), pretty=_render_docs)


def _render_docs(doc: dict[str, Any], console: Any) -> None:
    from genmedia.output import esc

    for item in doc.get("results") or ():
        console.print(
            f"[bold]{esc(item['title'])}[/]  [dim]{esc(item.get('url') or '')}[/]", markup=True
        )
        content = item.get("content") or ""
        console.print(content[:400] + ("…" if len(content) > 400 else ""), highlight=False)
        console.print()


# --------------------------------------------------------------------------- setup


@not_an_agent_tool("interactive; stores the API key (run `genmedia setup` in a terminal)")
@click.command()
@click.option("-y", "--non-interactive", is_flag=True, help="Do not prompt; use the flags only.")
@click.option(
    "--api-key",
    metavar="KEY",
    help="The fal API key to save ('-' reads it from stdin, '' removes the saved key). "
    "Kept if not given.",
)
@click.option(
    "--no-save-key",
    is_flag=True,
    help="Do not ask for or save an API key (keep using FAL_KEY); save the other settings.",
)
@click.option(
    "--output-format",
    type=click.Choice(["auto", "json", "pretty", "standard"]),
    help="Default output format ('standard' is another name for pretty).",
)
@click.option(
    "--auto-load-env/--no-auto-load-env",
    default=None,
    help="Load a .env file from the working directory (never overrides the environment).",
)
@click.pass_context
def setup(
    ctx: click.Context,
    non_interactive: bool,
    api_key: str | None,
    no_save_key: bool,
    output_format: str | None,
    auto_load_env: bool | None,
) -> None:
    """Save the fal API key and preferences in the config file (mode 0600).

    Interactive by default (the key is read without echo). Running it again with the
    same answers changes nothing.
    """
    from genmedia.config import CONFIG_FILE, default_dirs, read_config_file, write_config_file
    from genmedia.output import emit
    from genmedia.redact import mask as mask_key

    app = get_app(ctx)
    path = default_dirs()[0] / CONFIG_FILE
    current, _warnings = read_config_file(path)
    values = dict(current)
    if output_format == "standard":
        output_format = "pretty"
    if api_key == "-":
        api_key = app.stdin.readline().strip()
    if no_save_key:
        api_key = None
    if not non_interactive:
        app.prompted = True
        api_key, output_format, auto_load_env = _ask(
            current, api_key, output_format, auto_load_env, ask_key=not no_save_key
        )
    if api_key is not None and not api_key.strip():
        values.pop("api_key", None)  # --api-key "": forget the saved key
    elif api_key:
        values["api_key"] = _checked_key(api_key)
    if output_format:
        values["output_format"] = output_format
    if auto_load_env is not None:
        values["auto_load_env"] = auto_load_env
    changed = values != current
    if changed or not path.exists():
        write_config_file(path, values)
    key = values.get("api_key") if isinstance(values.get("api_key"), str) else None
    doc: dict[str, Any] = {
        "config_path": str(path),
        "changed": changed,
        "api_key": mask_key(key),
        "output_format": values.get("output_format", "auto"),
        "auto_load_env": bool(values.get("auto_load_env", False)),
    }
    import os

    if os.environ.get("FAL_KEY") and key and os.environ["FAL_KEY"] != key:
        doc["note"] = "FAL_KEY is set in the environment and takes precedence over the saved key."
    if not key:
        doc["hint"] = "No API key saved yet: genmedia setup --non-interactive --api-key <key>"
    emit(app, doc, pretty=_render_setup)


def _render_setup(doc: dict[str, Any], console: Any) -> None:
    verb = "Saved" if doc.get("changed") else "Unchanged"
    console.print(f"{verb}: {doc['config_path']}")
    console.print(f"  API key        {doc.get('api_key') or '(none)'}")
    console.print(f"  output format  {doc.get('output_format')}")
    console.print(f"  load .env      {'yes' if doc.get('auto_load_env') else 'no'}")
    for key in ("note", "hint"):
        if doc.get(key):
            console.print(doc[key])


def _checked_key(api_key: str) -> str:
    """``<key id>:<key secret>`` in printable ASCII, stripped; anything else is refused
    before it is saved (the message shows the masked form only)."""
    from genmedia.redact import mask as mask_key
    from genmedia_fal.credentials import clean_key, key_problem

    key = clean_key(api_key) or ""
    problem = key_problem(key)
    key_id, sep, secret = key.partition(":")
    if problem is None and not (sep and key_id and secret):
        problem = "it is not of the form <key id>:<key secret>"
    if problem is not None:
        raise errors.UsageError(
            f"Not a fal API key: {problem}",
            {
                "api_key": mask_key(key),
                "hint": "copy the whole key (<key id>:<key secret>, printable ASCII) from "
                "https://fal.ai/dashboard/keys",
            },
        )
    return key


def _ask(
    current: dict[str, Any],
    api_key: str | None,
    output_format: str | None,
    auto_load_env: bool | None,
    *,
    ask_key: bool = True,
) -> tuple[str | None, str | None, bool | None]:
    """Prompt (on stderr) for whatever the flags left open."""
    from genmedia.redact import mask as mask_key

    if api_key is None and ask_key:
        saved = current.get("api_key") if isinstance(current.get("api_key"), str) else None
        label = "fal API key" + (f" [{mask_key(saved)}, Enter keeps it]" if saved else "")
        entered = click.prompt(label, hide_input=True, default="", show_default=False, err=True)
        api_key = entered.strip() or None
    if output_format is None:
        output_format = click.prompt(
            "Output format",
            type=click.Choice(["auto", "json", "pretty"]),
            default=str(current.get("output_format") or "auto"),
            err=True,
        )
    if auto_load_env is None:
        auto_load_env = click.confirm(
            "Load .env files from the working directory?",
            default=bool(current.get("auto_load_env", False)),
            err=True,
        )
    return api_key, output_format, auto_load_env
