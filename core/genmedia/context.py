"""The application context: one object carrying what a command and every hook need.

It holds the global options, the settings (loaded lazily so a malformed config file
becomes a clean error inside the error boundary), the plugin manager, the providers, the
streams and the shared HTTP client. Tests build their own with other streams or a
transport (``AppContext(http_transport=httpx.MockTransport(...))``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar

from genmedia.errors import NotFoundError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from genmedia.config import Settings
    from genmedia.plugins import PluginManager
    from genmedia.provider import Provider


T = TypeVar("T")
D = TypeVar("D")


class StashKey(Generic[T]):
    """A key of :class:`Stash`, typed by its value; create one per plugin at module level:
    ``STATE = StashKey[MyState]()``. Keys compare by identity, so two plugins never clash."""

    __slots__ = ()


class Stash:
    """Typed, per-invocation state for plugins (pytest's ``Stash``): ``ctx.stash[KEY] =
    value``, ``ctx.stash[KEY]``, ``ctx.stash.get(KEY, default)``,
    ``ctx.stash.setdefault(KEY, value)``, ``KEY in ctx.stash``, ``del ctx.stash[KEY]``."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[StashKey[Any], object] = {}

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._data[key] = value

    def __getitem__(self, key: StashKey[T]) -> T:
        return self._data[key]  # type: ignore[return-value]

    def get(self, key: StashKey[T], default: D) -> T | D:
        return self._data.get(key, default)  # type: ignore[return-value]

    def setdefault(self, key: StashKey[T], default: T) -> T:
        return self._data.setdefault(key, default)  # type: ignore[return-value]

    def __delitem__(self, key: StashKey[T]) -> None:
        del self._data[key]

    def __contains__(self, key: StashKey[T]) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)


class AppContext:
    """Per-invocation state. A plain class: it is built on every start, before any attrs
    class is needed (``genmedia --help`` imports no attrs class at all)."""

    def __init__(
        self,
        *,
        json_flag: bool = False,
        debug: bool = False,
        field: str | None = None,
        global_options: dict[str, Any] | None = None,
        stream_logs: bool = False,
        events: bool = False,
        disabled_plugins: tuple[str, ...] = (),
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        stdin: IO[str] | None = None,
        http_transport: Any = None,
        settings: Settings | None = None,
        autoload: bool | None = None,
    ) -> None:
        self.json_flag = json_flag
        self.debug = debug
        self.field = field
        #: ``--logs`` on run/status: logs live on a terminal, ``logs`` in the JSON result.
        self.stream_logs = stream_logs
        #: ``--events``: in JSON mode, progress is streamed as NDJSON on stderr.
        self.events = events
        #: the parsed global options (plugin-contributed ones included), by parameter name;
        #: an embedder (the MCP server) may pass a plugin's global option here.
        self.global_options: dict[str, Any] = dict(global_options or {})
        #: warnings of this invocation; in JSON mode they end up in the output document's
        #: ``warnings`` list or in the error's ``details.warnings``, never loose on stderr.
        self.warnings: list[str] = []
        #: the job this command submitted or follows (set from the moment it exists), so
        #: any later error names its request id and the command that resumes it.
        self.current_job: Any = None
        #: set when the user was asked something on stderr (a prompt is for a person).
        self.prompted = False
        #: ``--debug`` tracebacks collected in JSON mode (see :meth:`print_traceback`).
        self.tracebacks: list[str] = []
        self.disabled_plugins = disabled_plugins
        #: ``--no-pager``: never page long pretty output (see genmedia.output.emit).
        self.no_pager = False
        #: the plugins' banners were printed (once per process, before the work starts).
        self.banners_shown = False
        # None means "sys.stdout/stderr/stdin at the time of use" (click's runner swaps
        # them after the context may have been created).
        self._stdout = stdout
        self._stderr = stderr
        self._stdin = stdin
        #: an ``httpx`` transport for the shared client (tests), or None for the network.
        self.http_transport = http_transport
        #: load entry-point plugins (None: unless ``GENMEDIA_NO_PLUGIN_AUTOLOAD``); tests
        #: pass False for a manager with only the core and the built-ins.
        self.autoload = autoload
        #: plugin-private state for this invocation, keyed by each plugin's own
        #: :class:`StashKey` (pytest's ``Stash``).
        self.stash = Stash()
        self._settings = settings
        self._pm: PluginManager | None = None
        self._http: httpx.Client | None = None
        self._providers: dict[str, Provider] | None = None
        self._configured = False
        self._warned: set[str] = set()
        self._on_close: list[Callable[[], object]] = []

    @property
    def stdout(self) -> IO[str]:
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> IO[str]:
        return self._stderr or sys.stderr

    @property
    def stdin(self) -> IO[str]:
        return self._stdin or sys.stdin

    # -- output mode ---------------------------------------------------------------------

    @property
    def json_mode(self) -> bool:
        """JSON when ``--json``, ``GENMEDIA_OUTPUT=json``/config, or stdout is not a TTY."""
        if self.json_flag:
            return True
        fmt = os.environ.get("GENMEDIA_OUTPUT", "").lower()
        if not fmt and self._settings is not None:
            fmt = self._settings.output_format
        if fmt == "json":
            return True
        if fmt == "pretty":
            return False
        return not _isatty(self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        return _isatty(self.stderr)

    def warn(self, message: str, *, once: bool = True) -> None:
        """A warning for the user.

        Pretty mode prints ``genmedia: warning: …`` on stderr. JSON mode keeps stderr for
        the error object: the warning is collected in :attr:`warnings` (the document's
        ``warnings`` list, or ``details.warnings`` of the error) and, with ``--events``,
        also streamed as a ``{"event": "warning"}`` line.
        """
        if once and message in self._warned:
            return
        self._warned.add(message)
        from genmedia.redact import redact

        message = redact(message)
        if self.json_mode:
            self.warnings.append(message)
            self.event("warning", message=message)
            return
        print(f"genmedia: warning: {message}", file=self.stderr, flush=True)

    def print_traceback(self, exc: BaseException) -> None:
        """``--debug``: a traceback for people on stderr; in JSON mode it is kept for the
        error object's ``details.traceback`` (and streamed as an event with ``--events``),
        so stderr still holds one JSON document."""
        import traceback

        from genmedia.redact import redact

        text = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        if not self.json_mode:
            self.stderr.write(text)
            self.stderr.flush()
            return
        self.tracebacks.append(text)
        self.event("traceback", text=text)

    def event(self, kind: str, **fields: Any) -> bool:
        """Stream one NDJSON event on stderr (JSON mode with ``--events`` only).

        ``kind`` becomes the ``"event"`` key; ``None`` values are left out. Returns
        whether the event was written. Plugins use this for their own live events.
        """
        if not (self.events and self.json_mode):
            return False

        from genmedia.redact import redact_value

        line: dict[str, Any] = {"event": kind}
        line.update((k, redact_value(v)) for k, v in fields.items() if v is not None)
        self.stderr.write(one_line_json(line) + "\n")
        self.stderr.flush()
        return True

    # -- settings and plugins ------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from genmedia.config import load_settings

            self._settings = load_settings()
            for message in self._settings.warnings:
                self.warn(message)
        return self._settings

    @property
    def pm(self) -> PluginManager:
        if self._pm is None:
            from genmedia.plugins import make_plugin_manager

            self._pm = make_plugin_manager(
                disabled=self.disabled_plugins, autoload=self.autoload, warn=self.warn
            )
        return self._pm

    def use_plugin_manager(self, pm: PluginManager) -> None:
        """Use an existing manager (tests, embedding)."""
        self._pm = pm

    def configure(self) -> None:
        """Call ``genmedia_configure`` once (historic, so later plugins get it too), with
        the global options in ``Settings.options``; warnings plugins add are shown."""
        if not self._configured:
            self._configured = True
            settings = self.settings
            settings.options.update(self.global_options)
            self.pm.hook.genmedia_configure.call_historic(kwargs={"config": settings})
            for message in settings.warnings:
                self.warn(message)

    @property
    def marks(self) -> dict[str, Any]:
        """What plugins mark every output with (``Settings.marks``; empty before settings)."""
        return self._settings.marks if self._settings is not None else {}

    @property
    def invocation(self) -> str:
        """How hints spell the command (``Settings.invocation``; "genmedia" by default)."""
        return self._settings.invocation if self._settings is not None else "genmedia"

    # -- providers -----------------------------------------------------------------------

    @property
    def providers(self) -> dict[str, Provider]:
        if self._providers is None:
            self.configure()
            found: dict[str, Provider] = {}

            def register(provider: Provider) -> None:
                # Implementations run in pluggy's order (third-party before built-ins),
                # so the first registration of a name wins: a plugin can replace a
                # built-in provider by using its name.
                from genmedia.provider import missing_members

                missing = missing_members(provider)
                if missing:
                    self.warn(
                        f"provider {getattr(provider, 'name', provider)!r} was skipped: it "
                        f"lacks {', '.join(missing)} (subclass genmedia.provider.BaseProvider "
                        "for the documented defaults)"
                    )
                    return
                found.setdefault(provider.name, provider)

            self.pm.hook.genmedia_register_providers(register=register, ctx=self)
            self._providers = found
        return self._providers

    def provider(self, name: str) -> Provider:
        try:
            return self.providers[name]
        except KeyError:
            raise UsageError(
                f"Unknown provider: {name}", {"available": sorted(self.providers)}
            ) from None

    def default_provider(self, name: str | None = None) -> Provider:
        """``name``, else the config's ``default_provider``, else the registered catch-all
        provider (``catch_all = True``), else the first one registered."""
        if name:
            return self.provider(name)
        preferred = self.settings.file_values.get("default_provider")
        if preferred:
            return self.provider(str(preferred))
        if not self.providers:
            raise UsageError("No provider is installed", {"hint": "genmedia plugins"})
        catch_all = [p for p in self.providers.values() if p.catch_all]
        return (catch_all or list(self.providers.values()))[0]

    def resolve_provider(self, endpoint_id: str) -> Provider:
        providers: Mapping[str, Provider] = self.providers
        provider = self.pm.hook.genmedia_resolve_provider(
            endpoint_id=endpoint_id, providers=providers, ctx=self
        )
        if provider is None:
            raise NotFoundError(
                f"No provider can run {endpoint_id}",
                {"endpoint_id": endpoint_id, "providers": sorted(providers)},
            )
        return provider  # type: ignore[no-any-return]

    # -- HTTP ----------------------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        """The shared keep-alive client, created on first use."""
        if self._http is None:
            from genmedia.http import make_client

            self._http = make_client(transport=self.http_transport)
        return self._http

    def call_on_close(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` when the invocation ends (:meth:`close`), whatever thread
        registers it and however the command ended (success, error, Ctrl-C): release
        per-invocation resources here (click's ``call_on_close`` only reaches the click
        context of the calling thread, and none in a worker thread)."""
        self._on_close.append(callback)

    def run_close_callbacks(self) -> None:
        """Run the :meth:`call_on_close` callbacks now, last registered first, until none is
        left: every one runs, a failing one is a warning, an interrupt is raised after the
        others ran. The error boundary calls it before it prints an error (so its warnings
        reach the error object); :meth:`close` runs what is left."""
        from contextlib import ExitStack

        while self._on_close:
            callbacks, self._on_close = self._on_close, []
            with ExitStack() as stack:
                for callback in callbacks:
                    stack.callback(self._closing, callback)

    def close(self) -> None:
        """End the invocation: :meth:`run_close_callbacks`, then the shared HTTP client.
        Closing twice does nothing more."""
        try:
            self.run_close_callbacks()
        finally:
            if self._http is not None:
                self._http.close()
                self._http = None

    def _closing(self, callback: Callable[[], object]) -> None:
        try:
            callback()
        except Exception as exc:
            self.warn(f"cleaning up failed ({type(exc).__name__}: {exc})")


#: characters that JSON leaves raw but some line readers (Python's str.splitlines, JavaScript
#: before ES2019) take as line breaks: escaped, so one NDJSON event is always one line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def one_line_json(value: Any) -> str:
    """``value`` as JSON on exactly one line, for every reader (NDJSON events)."""
    import json

    text = json.dumps(value, ensure_ascii=False, default=str)
    for raw, escaped in _LINE_BREAKS.items():
        text = text.replace(raw, escaped)
    return text


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
