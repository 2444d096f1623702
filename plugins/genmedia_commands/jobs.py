"""``genmedia run``: provider-agnostic, extended by plugin options (``status`` is in
:mod:`genmedia_commands.status`)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import click

from genmedia import errors
from genmedia.cli import get_app
from genmedia.output import emit, esc
from genmedia_commands.completion import complete_endpoint
from genmedia_commands.route import is_endpoint_id

RUN_TAIL = "genmedia.run.tail"

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.context import AppContext
    from genmedia.types import RunResult


def plugin_options(command_name: str) -> list[click.Parameter]:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    from genmedia.plugins import split_failures

    app = get_app(ctx)
    params: list[click.Parameter] = []
    # guarded: a plugin that fails is a warning, the others' options stay
    results = app.pm.hook.genmedia_add_options(command_name=command_name)
    for contributed in split_failures(app, "genmedia_add_options", results)[0]:
        params.extend(contributed or ())
    return params


def parse_model_args(tokens: list[str]) -> list[tuple[str, str]]:
    """``--name value``, ``--name=value`` and bare ``--flag`` (= ``true``) pairs, in order."""
    from genmedia.argv import flag_pairs

    return flag_pairs(tokens, hint="Model inputs are given as --name value (or --name=value).")


INPUT_PAIR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def split_inputs(values: tuple[str, ...]) -> tuple[list[str], list[tuple[str, str]]]:
    """``--input/-i`` values: ``NAME=VALUE`` pairs (a model input, even one named like a
    genmedia option) and JSON files (``FILE.json`` or ``-``)."""
    from genmedia.files import is_file

    files: list[str] = []
    pairs: list[tuple[str, str]] = []
    for value in values:
        m = INPUT_PAIR.match(value)
        if m and not is_file(value):
            pairs.append((m.group(1), m.group(2)))
        else:
            files.append(value)
    return files, pairs


def read_input_file(app: AppContext, source: str) -> dict[str, Any]:
    """``--input FILE.json`` (or ``-`` for stdin): a whole input object (limits:
    :mod:`genmedia.limits`)."""
    from genmedia import limits

    what = "--input " + ("(standard input)" if source == "-" else "file")
    limit, env = limits.input_file_limit(), limits.INPUT_FILE_ENV
    if source == "-":
        text = limits.read_stream(app.stdin, what=what, limit=limit, env=env)
    else:
        text = limits.read_text(source, what=what, limit=limit, env=env)
    data = limits.loads_json(text, what=what)
    if not isinstance(data, dict):
        raise errors.UsageError("--input must hold a JSON object", {"source": source})
    return data


class RunCommand(click.Command):
    """``run``: known options are parsed by click; everything else is a model input.

    Tokens after ``--`` are model inputs even when their names collide with genmedia's
    own options (``-- --timeout 5`` passes ``timeout`` to the model).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            args, tail = args[:cut], args[cut + 1 :]
        else:
            tail = []
        ctx.meta[RUN_TAIL] = tail
        if any(a in ("--help", "-h") for a in args):
            endpoint = next((a for a in args if not a.startswith("-")), None)
            if endpoint and is_endpoint_id(endpoint):
                self._model_help(ctx, endpoint, refresh="--refresh-schema" in args)
        return super().parse_args(ctx, args)

    def _model_help(self, ctx: click.Context, endpoint: str, *, refresh: bool = False) -> None:
        from genmedia_commands.model_help import model_help_info, render_model_help

        app = get_app(ctx)
        try:
            info = model_help_info(app, endpoint, self, refresh=refresh)
        except errors.GenmediaError as exc:
            app.warn(f"could not load the inputs of {endpoint} ({exc.message})")
            return  # fall back to the static help
        if app.json_flag:
            click.echo(json.dumps(info, indent=2, default=str))
        else:
            render_model_help(app, info, ctx.get_help())
        ctx.exit(0)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        """genmedia's own options, then the model's inputs (``--prompt``) known offline."""
        from genmedia_commands.completion import complete_model_inputs

        return complete_model_inputs(ctx, incomplete) + super().shell_complete(ctx, incomplete)

    def json_help(self, ctx: click.Context, args: list[str]) -> dict[str, Any]:
        from genmedia_commands.model_help import model_help_info

        endpoint = next((a for a in args if not a.startswith("-") and a != "run"), None)
        if endpoint and is_endpoint_id(endpoint):
            app = get_app(ctx)
            try:
                refresh = "--refresh-schema" in args
                return model_help_info(app, endpoint, self, refresh=refresh)
            except errors.GenmediaError as exc:
                app.warn(f"could not load the inputs of {endpoint} ({exc.message})")
        return self.to_info_dict(ctx)


def make_run_command() -> click.Command:
    params: list[click.Parameter] = [
        click.Argument(
            ["endpoint_id"],
            metavar="[ENDPOINT|PROMPT]",
            required=False,
            shell_complete=complete_endpoint,
        ),
        click.Argument(["model_args"], nargs=-1, type=click.UNPROCESSED),
        click.Option(["--async", "async_"], is_flag=True, help="Submit and return the request id."),
        click.Option(
            ["--logs"],
            is_flag=True,
            help="Show the model's logs live (pretty mode); add them to the JSON result as `logs`.",
        ),
        click.Option(
            ["--timeout"],
            type=click.FloatRange(min=0, min_open=True),
            metavar="S",
            help="Stop waiting after S seconds (exit 8; the job keeps running).",
        ),
        click.Option(["--webhook"], metavar="URL", help="URL the host POSTs the result to."),
        click.Option(
            ["--dry-run"],
            is_flag=True,
            help="Print the final payload and the price estimate; submit nothing.",
        ),
        click.Option(
            ["--cancel-on-interrupt"],
            is_flag=True,
            help="On Ctrl-C or --timeout, cancel the job instead of leaving it running.",
        ),
        click.Option(
            ["--input", "-i", "inputs"],
            multiple=True,
            metavar="NAME=VALUE|FILE.json",
            help="One model input (for names genmedia uses itself, e.g. -i sandbox=true), "
            "or a JSON object with the whole input ('-' = stdin); flags override its keys. "
            "Repeatable.",
        ),
        click.Option(
            ["--no-upload"],
            is_flag=True,
            help="Do not upload local files given for URL inputs (send the text as is).",
        ),
        click.Option(
            ["--provider"], metavar="NAME", help="Use this provider (default: by endpoint)."
        ),
        click.Option(
            ["--refresh-schema"],
            is_flag=True,
            help="Fetch the model's schema again even when a fresh copy is cached "
            "(also with ENDPOINT --help).",
        ),
        click.Option(
            ["--route"],
            metavar="MODALITY",
            help="With a prompt instead of an endpoint: the kind of model to use "
            "(image, edit, video, image-to-video, speech, music, sound, 3d …).",
        ),
        *plugin_options("run"),
    ]
    return RunCommand(
        "run",
        params=params,
        callback=_run,
        help=(
            "Run a model and wait for its result.\n\n"
            "Model inputs are options: genmedia run fal-ai/flux/dev --prompt 'a cat' "
            "--num_images 2. `genmedia run ENDPOINT --help` lists the model's inputs.\n\n"
            "Without an endpoint a model is chosen for the prompt: genmedia run "
            "'a video of a cat' (see `routed` in the output)."
        ),
        context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True},
    )


RUN_PARAMS = {
    "endpoint_id",
    "model_args",
    "async_",
    "logs",
    "timeout",
    "webhook",
    "dry_run",
    "cancel_on_interrupt",
    "inputs",
    "no_upload",
    "provider",
    "route",
    "refresh_schema",
}


def _run(**params: Any) -> None:
    ctx = click.get_current_context()
    app = get_app(ctx)
    tail = ctx.meta.get(RUN_TAIL, [])
    from genmedia.types import RunOptions, RunRequest

    files, pairs = split_inputs(tuple(params["inputs"]))
    endpoint, model_args = params["endpoint_id"], list(params["model_args"])
    if endpoint is not None and endpoint.startswith("-"):  # `run --prompt x`: no endpoint
        endpoint, model_args = None, [endpoint, *model_args]
    raw_args = parse_model_args(model_args) + pairs + parse_model_args(tail)
    route = None
    if params["route"] and is_endpoint_id(endpoint):
        raise errors.UsageError(
            "--route chooses a model for a prompt; it cannot be combined with an endpoint",
            {"endpoint_id": endpoint, "hint": f'genmedia run "PROMPT" --route {params["route"]}'},
        )
    if not is_endpoint_id(endpoint):
        from genmedia_commands.route import route_run

        route, raw_args = route_run(app, endpoint, raw_args, params["route"])
        endpoint = route.endpoint_id
    app.stream_logs = bool(params["logs"])
    request = RunRequest(
        endpoint_id=endpoint,
        provider=params["provider"],
        options=RunOptions(
            wait=not params["async_"],
            logs=params["logs"],
            timeout=params["timeout"],
            webhook=params["webhook"],
            dry_run=params["dry_run"],
            cancel_on_interrupt=params["cancel_on_interrupt"],
            upload_files=not params["no_upload"],
            refresh_schema=params["refresh_schema"],
        ),
        raw_args=raw_args,
        extra={k: v for k, v in params.items() if k not in RUN_PARAMS},
    )
    for source in files:
        request.input.update(read_input_file(app, source))
    from genmedia import pipeline

    # did-you-mean candidates for a misspelled input: the command's own options
    options = [o for p in ctx.command.params if isinstance(p, click.Option) for o in p.opts]
    flagged = {name for name, _ in parse_model_args(model_args)}
    try:
        doc, code, result = pipeline.run(app, request, options=options, check_names=flagged)
    except errors.GenmediaError as exc:
        if route is not None:
            exc.add_details(routed=route)
        raise
    if route is not None:
        doc = {**dict(list(doc.items())[:4]), "routed": route, **doc}
    emit(app, doc, pretty=run_renderer(result))
    ctx.exit(code)


def run_renderer(result: RunResult | None) -> Any:
    """The pretty view of a run document, with the files the sinks saved for ``result``."""
    return lambda doc, console: render_run(doc, console, result)


def render_run(doc: dict[str, Any], console: Any, run: RunResult | None = None) -> None:
    from genmedia.types import iter_media

    status = doc.get("status")
    console.print(
        f"[bold green]{esc(status)}[/] {esc(doc.get('endpoint_id', ''))} "
        f"{esc(doc.get('request_id', ''))}",
        markup=True,
    )
    if status in ("submitted", "dry_run"):
        from genmedia.output import render_mapping

        render_mapping({k: v for k, v in doc.items() if k != "status"}, console)
        return
    saved: dict[str, list[str]] = {}
    for f in run.saved_files if run is not None else ():
        saved.setdefault(f.url, []).append(f.path)
    for ref in iter_media(doc.get("result")):
        where = ", ".join(saved.get(ref.url) or ())
        console.print(f"  {ref.json_path}: {where or ref.url}")
    for failure in run.save_failures if run is not None else ():
        console.print(
            f"  [red]failed[/] {esc(failure.json_path)}: {esc(failure.error)}", markup=True
        )
    extra = {k: v for k, v in (doc.get("result") or {}).items() if not isinstance(v, (dict, list))}
    for key, value in extra.items():
        console.print(f"  [dim]{esc(key)}:[/] {esc(value)}", markup=True)
