"""Routing: ``genmedia run "a prompt"`` (no endpoint id) asks ``genmedia_route`` for a model.

The ``run`` command calls :func:`route_run` when its positional argument is not an
endpoint id (:func:`is_endpoint_id`) or is missing. The chosen endpoint then runs exactly
as if it had been typed; the route is reported as ``routed`` in the output.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from genmedia import errors

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import Route


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S")


def is_endpoint_id(token: str | None) -> bool:
    """An endpoint id is one word holding a ``/`` (``fal-ai/flux/dev``) or a provider
    ``scheme:`` prefix (``example:echo``); anything else is a prompt."""
    if not token or any(c.isspace() for c in token):
        return False
    return "/" in token or bool(_SCHEME.match(token))


def route_run(
    app: AppContext,
    prompt: str | None,
    raw_args: list[tuple[str, str]],
    modality: str | None,
) -> tuple[Route, list[tuple[str, str]]]:
    """Choose the endpoint for a run without one; returns the route and the model inputs
    with the prompt under the field the chosen model reads it from."""
    given = [v for k, v in raw_args if k == "prompt"]
    if prompt is not None and given:
        details = {"hint": 'genmedia run "a prompt"   or   genmedia run ENDPOINT --prompt "…"'}
        if prompt.strip() and not any(c.isspace() for c in prompt.strip()):
            # `genmedia run flux --prompt x`: an endpoint id was meant
            details = {
                "argument": prompt,
                "hint": f"{prompt!r} is not an endpoint id (owner/model, e.g. "
                f'fal-ai/flux/dev): genmedia models "{prompt}" finds one',
            }
        raise errors.UsageError(
            "The prompt was given twice (as the argument and as --prompt)", details
        )
    text = prompt if prompt is not None else (given[0] if given else None)
    others = [(k, v) for k, v in raw_args if k != "prompt"]
    if not (text or "").strip() and not others:
        import click

        click_ctx = click.get_current_context(silent=True)
        usage = click_ctx.get_usage().removeprefix("Usage:").strip() if click_ctx else None
        hint = (
            'genmedia run "a prompt" (a model is chosen for you), or: '
            "genmedia run ENDPOINT --prompt ... (genmedia models QUERY finds one)"
        )
        raise errors.UsageError(
            "Missing ENDPOINT or prompt",
            {"usage": usage, "hint": hint} if usage else {"hint": hint},
        )
    app.configure()
    route: Route | None = app.pm.hook.genmedia_route(
        prompt=text, inputs=dict(others), modality=modality, ctx=app
    )
    if route is None:
        raise errors.UsageError(
            "No model could be chosen for this run: name an endpoint",
            {"hint": 'genmedia models "<task>" finds one; genmedia plugins lists routers'},
        )
    if prompt is not None and route.prompt_field:
        others.insert(0, (route.prompt_field, prompt))
    elif prompt is None and route.prompt_field:
        others = [(route.prompt_field if k == "prompt" else k, v) for k, v in raw_args]
    if not app.json_mode:
        from genmedia.output import esc, stderr_console

        why = f"; {route.reason}" if route.reason else ""
        stderr_console(app).print(
            f"[dim]routed:[/] {esc(route.modality)} → [bold]{esc(route.endpoint_id)}[/] "
            f"[dim]({esc(route.source)}{esc(why)})[/]",
            markup=True,
        )
    return route, others
