"""The ``genmedia`` command line: root group, global options, lazy commands, error boundary.

Importing this module is cheap: click and pluggy only. Plugins are loaded on the first
command lookup (so ``genmedia --version`` loads none), and httpx, cattrs and rich are
imported only by the commands that use them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from genmedia import __version__
from genmedia.argv import (
    JSON_META,
    before_dashdash,
    check_argv,
    global_option_table,
    prescan_disabled,
    split_global_options,
)
from genmedia.context import AppContext
from genmedia.terminal import HelpWidthContext

#: ``genmedia_add_options(command_name=GLOBAL_OPTIONS)`` contributes global options.
GLOBAL_OPTIONS = "genmedia"


def get_app(ctx: click.Context) -> AppContext:
    """The :class:`AppContext` of this invocation (created on demand for embedders)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


pass_app = click.make_pass_decorator(AppContext)

_Cmd = TypeVar("_Cmd", bound=click.Command)


def not_an_agent_tool(reason: str) -> Callable[[_Cmd], _Cmd]:
    """Mark a command unsuitable for non-interactive agents (public helper; plugin docs):
    above its decorator, sets ``command.not_an_agent_tool = reason`` (a class may set it);
    tool bridges (``genmedia mcp``) leave it, or a group's subcommands, out."""
    if not reason:
        raise ValueError("not_an_agent_tool needs a reason")

    def mark(command: _Cmd) -> _Cmd:
        command.not_an_agent_tool = reason  # type: ignore[attr-defined]
        return command

    return mark


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"genmedia {__version__}")
        ctx.exit(0)


class LazyCommand(click.Command):
    """A command whose module is imported only when it is used (public helper).

    ``genmedia --help`` lists every command with its short help; importing every command
    module for that would cost more than the rest of start-up. Register a stub instead::

        cli.add_command(LazyCommand("assets", "my_plugin.assets:assets",
                                    "Browse and organise my host's assets."))

    ``target`` is ``"module:attribute"``; the attribute is a click command, or a function
    returning one. The real command replaces the stub when the root group resolves it
    (invocation, ``COMMAND --help``), and ``--help --json`` describes the real command.
    """

    def __init__(self, name: str, target: str, short_help: str, *, hidden: bool = False):
        super().__init__(name, short_help=short_help, hidden=hidden, add_help_option=False)
        self.target = target
        self._real: click.Command | None = None

    def load(self) -> click.Command:
        if self._real is None:
            import importlib

            module_name, _, attr = self.target.partition(":")
            obj: Any = getattr(importlib.import_module(module_name), attr)
            command = obj if isinstance(obj, click.Command) else obj()
            command.name = self.name
            self._real = command
        return self._real

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or ""

    def to_info_dict(self, ctx: click.Context) -> dict[str, Any]:
        return self.load().to_info_dict(ctx)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        return self.load().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        return self.load().invoke(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.load().get_help(ctx)


class RootGroup(click.Group):
    """The root group: commands come from plugins, loaded on first lookup."""

    context_class = HelpWidthContext  # the help's width without importing shutil

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded = False
        self._plugin_globals = False
        self._first_wins = False

    # -- lazy loading --------------------------------------------------------------------

    def _load(self, ctx: click.Context) -> None:
        if self._loaded:
            return
        self._loaded = True
        from genmedia.plugins import split_failures

        # pluggy calls entry points first, then built-ins, the core last: while the hook
        # runs the first command of a name wins, so a later-registered plugin's command
        # replaces an earlier one of the same name.
        app = get_app(ctx)
        self._first_wins = True
        try:
            results = app.pm.hook.genmedia_register_commands(cli=self)
        finally:
            self._first_wins = False
        split_failures(app, "genmedia_register_commands", results)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if self._first_wins and (name or cmd.name) in self.commands:
            return
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load(ctx)
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load(ctx)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        if isinstance(cmd, LazyCommand):
            cmd = self.commands[cmd.name or ""] = cmd.load()
        return name, cmd, rest

    # -- argument handling ---------------------------------------------------------------

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        app = get_app(ctx)
        head = before_dashdash(args)
        # Plugins may be loaded while click parses (an eager --help lists commands, plugin
        # global options are collected below), so blocked plugins must be known first.
        app.disabled_plugins = prescan_disabled(head)
        app.events = app.events or "--events" in head  # plugin load warnings are events too
        if "--version" not in head and args:
            self._add_plugin_globals(app)
        # Every global option is accepted anywhere before ``--``: move them to the front.
        found, rest = split_global_options(args, global_option_table(self))
        args = found + rest
        app.json_flag = app.json_flag or "--json" in found
        if app.json_flag:
            ctx.meta[JSON_META] = True
        if not rest and "--version" not in found and not ctx.resilient_parsing:
            # bare ``genmedia`` (perhaps with global options): the help, exit 0
            if app.json_flag:
                _print_json_help(self, ctx, [])
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        if app.json_flag and _wants_help(self, ctx, rest):
            # before click parses: the global options must already take effect (a plugin's
            # option may change where the help comes from, e.g. a model's schema)
            opts, _args, _order = self.make_parser(ctx).parse_args(args=list(found))
            app.global_options.update(opts)
            _print_json_help(self, ctx, rest)
        remaining = super().parse_args(ctx, args)
        app.debug = bool(ctx.params.get("debug"))
        app.field = ctx.params.get("field")
        app.events = bool(ctx.params.get("events"))
        app.disabled_plugins = tuple(ctx.params.get("disable_plugin") or ())
        app.global_options.update(ctx.params)
        app.no_pager = app.no_pager or bool(ctx.params.get("no_pager"))
        return remaining

    def _add_plugin_globals(self, app: AppContext) -> None:
        """Options plugins contribute to the root group (``genmedia_add_options`` called
        with ``command_name="genmedia"``): global options, accepted anywhere too."""
        if self._plugin_globals:
            return
        self._plugin_globals = True
        from genmedia.plugins import split_failures

        # guarded: a plugin that fails is a warning, the others' options stay
        results = app.pm.hook.genmedia_add_options(command_name=GLOBAL_OPTIONS)
        contributed, _failed = split_failures(app, "genmedia_add_options", results)
        taken = {name for p in self.params for name in p.opts + p.secondary_opts}
        for params in contributed:
            for param in params or ():
                names = set(param.opts + param.secondary_opts)
                if names & taken:
                    app.warn(f"global option {'/'.join(sorted(names))} is already defined; ignored")
                    continue
                taken |= names
                self.params.append(param)

    # -- the error boundary --------------------------------------------------------------

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        argv = list(sys.argv[1:] if args is None else args)
        app = extra.pop("obj", None) or AppContext(json_flag="--json" in before_dashdash(argv))
        extra.pop("standalone_mode", None)
        code = 0
        from genmedia import signals

        with signals.handling_signals():
            try:
                check_argv(argv, app)
                rv = super().main(
                    args=argv,
                    prog_name=prog_name or "genmedia",
                    standalone_mode=False,
                    obj=app,
                    **extra,
                )
                code = rv if isinstance(rv, int) else 0
            except click.exceptions.Exit as exc:
                code = exc.exit_code
            except BaseException as exc:
                if isinstance(exc, SystemExit):
                    raise
                signals.disarm()
                from genmedia.defaults import report_error

                code = report_error(app, exc)
            finally:
                signals.disarm()
                app.close()
        sys.exit(code)


def _wants_help(group: RootGroup, ctx: click.Context, args: list[str]) -> bool:
    tokens = before_dashdash(args)
    if any(a in ("--help", "-h") for a in tokens):
        return True
    # a short-option cluster such as ``-h0`` asks for help as click reads it: flags up to
    # the first option that takes a value (commands that ignore unknown options skip the rest)
    clusters = [t for t in tokens if t[:1] == "-" and t[1:2] not in ("", "-") and "h" in t]
    if not clusters:
        return False
    cmd, _ = _resolve_command(group, ctx, tokens)
    shorts = {o: p for p in cmd.params if isinstance(p, click.Option) for o in p.opts}
    lenient = bool(cmd.context_settings.get("ignore_unknown_options"))
    for token in clusters:
        asked = False
        for ch in token[1:]:
            param = shorts.get(f"-{ch}")
            if ch == "h":
                asked = True
            elif param is None and not lenient:
                asked = False  # click stops at the unknown option: a usage error
                break
            elif param is not None and not (param.is_flag or param.count):
                break  # the rest of the token is this option's value
        if asked:
            return True
    return False


def _resolve_command(
    group: RootGroup, ctx: click.Context, tokens: list[str]
) -> tuple[click.Command, click.Context]:
    """The (sub)command the words of ``tokens`` name, options skipped, and its context."""
    cmd: click.Command = group
    sub_ctx = ctx
    for token in tokens:
        if token.startswith("-"):
            continue
        if isinstance(cmd, click.Group):
            nxt = cmd.get_command(sub_ctx, token)
            if nxt is None:
                break
            cmd = nxt.load() if isinstance(nxt, LazyCommand) else nxt
            sub_ctx = click.Context(cmd, info_name=token, parent=sub_ctx)
        else:
            break
    return cmd, sub_ctx


def _print_json_help(group: RootGroup, ctx: click.Context, args: list[str]) -> NoReturn:
    """``--help --json``: the command tree (or one command's subtree) as JSON."""
    remaining = [a for a in before_dashdash(args) if a not in ("--help", "-h")]
    cmd, sub_ctx = _resolve_command(group, ctx, remaining)
    import json

    json_help = getattr(cmd, "json_help", None)
    info = json_help(sub_ctx, remaining) if callable(json_help) else cmd.to_info_dict(sub_ctx)
    click.echo(json.dumps(info, indent=2, default=_jsonable))
    sys.exit(0)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return None if callable(value) or type(value).__name__ == "Sentinel" else str(value)


def make_cli() -> RootGroup:
    """Build the root group. A new one per invocation, so tests never share state."""

    @click.group(
        "genmedia",
        cls=RootGroup,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        epilog=(
            "Global options work anywhere on the line (a model input named like one: "
            "-i NAME=VALUE). `genmedia COMMAND --help` shows a command's options; "
            "`genmedia --help --json` prints the whole command tree."
        ),
    )
    @click.option(
        "--json",
        "json_flag",
        is_flag=True,
        help="Print one JSON document on stdout (default when stdout is not a terminal).",
    )
    @click.option(
        "--events",
        is_flag=True,
        help="JSON mode: stream progress as NDJSON on stderr (submitted, status, log, "
        "progress, warning; the error object last).",
    )
    @click.option("--debug", is_flag=True, help="Show tracebacks and HTTP details on errors.")
    @click.option(
        "--field",
        metavar="PATH",
        help="Print only this value of the JSON output, e.g. result.images[0].url (or [-1]).",
    )
    @click.option(
        "--disable-plugin",
        multiple=True,
        metavar="NAME",
        help="Do not load this plugin (repeatable; also GENMEDIA_DISABLE_PLUGINS=a,b).",
    )
    @click.option(
        "--no-pager",
        is_flag=True,
        help="Never page long output on a terminal (default pager: $PAGER, else less).",
    )
    @click.option(
        "--version",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_print_version,
        help="Print the version and exit.",
    )
    @click.pass_context
    def cli(ctx: click.Context, /, **_options: Any) -> None:
        """Run generative-media models end to end: find a model, read its schema, upload
        inputs, run it, follow it, save the results.

        Output is JSON when --json is given or stdout is not a terminal.
        """
        # Settings are loaded (and plugins configured) only when a command really runs:
        # --version and --help never read the config file.
        app = get_app(ctx)
        app.configure()
        from genmedia.output import announce

        # a command whose output is JSON whatever the terminal (``json_output = True`` on
        # its class, e.g. batch's NDJSON) says so before any banner reaches stderr
        sub = cli.get_command(ctx, ctx.invoked_subcommand or "")  # ctx.command is `cli`
        if getattr(sub.load() if isinstance(sub, LazyCommand) else sub, "json_output", False):
            app.json_flag = True

        announce(app)  # plugins' banners: before the work, not after it

    return cli


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    make_cli().main(argv)
