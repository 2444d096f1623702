"""The plugin manager factory.

:func:`make_plugin_manager` builds a fresh manager: the core's fallbacks, then the built-in
plugins from :data:`BUILTIN_PLUGINS` (one tuple, in order), then third-party entry points
of group ``genmedia``. Nothing happens at import time.

Blocking happens *before* import: ``GENMEDIA_DISABLE_PLUGINS=a,b`` or ``--disable-plugin``
(repeatable) name plugins (built-in short names or entry-point names) that are never
imported. ``GENMEDIA_NO_PLUGIN_AUTOLOAD=1`` skips entry points altogether. A third-party
plugin that fails to import or register is recorded in :attr:`PluginManager.load_errors`,
warned about, and listed by ``genmedia plugins``; the CLI carries on without it.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pluggy

from genmedia import hookspecs, truthy

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.types import PluginInfo, PluginLoadError

ENTRY_POINT_GROUP = "genmedia"
#: the distribution (PyPI name) that ships the core and the built-in plugins.
DISTRIBUTION = "genmedia-cli"

#: Built-in plugins: (short name, module). Registered first, in this order.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("commands", "genmedia_commands.plugin"),
    ("inputs", "genmedia_inputs.plugin"),
    ("fal", "genmedia_fal.plugin"),
    ("download", "genmedia_download.plugin"),
    ("sandbox", "genmedia_sandbox.plugin"),
    ("history", "genmedia_history.plugin"),
    ("gallery", "genmedia_gallery.plugin"),
    ("routing", "genmedia_routing.plugin"),
    ("skills", "genmedia_skills.plugin"),
    ("mcp", "genmedia_mcp.plugin"),
    ("webhooks", "genmedia_webhooks.plugin"),
    ("batch", "genmedia_batch.plugin"),
)

#: The core's own hook implementations (fallbacks, the progress listener); cannot be
#: disabled. Every command comes from a plugin (genmedia's own from ``commands``).
CORE_PLUGINS: tuple[tuple[str, str], ...] = (("core", "genmedia.defaults"),)


#: Hooks where one failing implementation must not stop the others: every implementation
#: (not wrappers) is guarded when registered, so a call through ``pm.hook`` returns an
#: :class:`ImplFailure` in place of the exception and the core reports it (a warning, or
#: ``sink_errors`` for sinks). Wrappers and tracing see every call.
GUARDED_HOOKS = frozenset(
    {
        "genmedia_register_commands",
        "genmedia_add_options",
        "genmedia_job_submitted",
        "genmedia_job_progress",
        "genmedia_job_finished",
        "genmedia_handle_result",
    }
)


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus what ``genmedia plugins`` reports."""

    def __init__(self) -> None:
        super().__init__("genmedia")
        self.load_errors: list[PluginLoadError] = []
        self.builtin_names: set[str] = set()
        self.blocked_names: set[str] = set()
        #: entry-point name -> (distribution, version) for third-party plugins.
        self.distributions: dict[str, tuple[str | None, str | None]] = {}

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        """pluggy's ``register``, then the implementations of :data:`GUARDED_HOOKS` are
        wrapped so that one that raises returns an :class:`ImplFailure` instead."""
        registered = super().register(plugin, name)
        for caller in self.get_hookcallers(plugin) or ():
            if caller.name in GUARDED_HOOKS:
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
                        _guard(impl, caller.name)
        return registered

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        # Only ``genmedia_*`` names can be hook implementations; skipping the rest saves
        # pluggy a static attribute lookup for every import in every plugin module.
        if not name.startswith("genmedia_"):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def disabled_from_env() -> set[str]:
    raw = os.environ.get("GENMEDIA_DISABLE_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def make_plugin_manager(
    *,
    disabled: Iterable[str] = (),
    builtins: Iterable[tuple[str, str]] | None = None,
    autoload: bool | None = None,
    warn: Any = None,
) -> PluginManager:
    """Build a plugin manager.

    :param disabled: plugin names to block before import (added to the environment's).
    :param builtins: override :data:`BUILTIN_PLUGINS` (tests).
    :param autoload: load entry points; default: unless ``GENMEDIA_NO_PLUGIN_AUTOLOAD``.
    :param warn: ``warn(message)`` for load problems; default prints to stderr.
    """
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    blocked = set(disabled) | disabled_from_env()
    pm.blocked_names = blocked
    for name in blocked:
        pm.set_blocked(name)
    warn = warn or (lambda msg: print(f"genmedia: warning: {msg}", file=sys.stderr))

    for name, module in CORE_PLUGINS:
        pm.register(importlib.import_module(module), name=name)

    for name, module in BUILTIN_PLUGINS if builtins is None else builtins:
        if name in blocked:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            from genmedia.types import PluginLoadError

            # A built-in whose optional dependencies are missing (e.g. the sandbox without
            # the "sandbox" extra) must not break the CLI either.
            pm.load_errors.append(PluginLoadError(name, f"{type(exc).__name__}: {exc}"))
            continue
        pm.register(mod, name=name)
        pm.builtin_names.add(name)

    if autoload is None:
        autoload = not truthy(os.environ.get("GENMEDIA_NO_PLUGIN_AUTOLOAD"))
    if autoload:
        load_entry_points(pm, blocked, warn)
    drop_invalid(pm, warn)
    return pm


def drop_invalid(pm: PluginManager, warn: Any) -> None:
    """``check_pending()``: a plugin implementing an unknown ``genmedia_`` hook is dropped
    (with a warning and a row in ``genmedia plugins``), not allowed to break the CLI."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            if name in {n for n, _ in CORE_PLUGINS}:
                raise
            from genmedia.types import PluginLoadError

            pm.unregister(exc.plugin)
            pm.builtin_names.discard(name)
            dist, version = pm.distributions.pop(name, (None, None))
            pm.load_errors.append(PluginLoadError(name, str(exc), dist, version))
            warn(f"plugin {name!r} was skipped: {exc}")


def load_entry_points(pm: PluginManager, blocked: set[str], warn: Any) -> None:
    """Load each entry point of group ``genmedia`` in its own try/except."""
    from genmedia.entrypoints import entry_points

    for ep in entry_points(ENTRY_POINT_GROUP, sys.path):
        if ep.name in blocked or pm.has_plugin(ep.name) or pm.is_blocked(ep.name):
            continue
        dist_name, version = ep.distribution, ep.version
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:
            from genmedia.types import PluginLoadError

            error = f"{type(exc).__name__}: {exc}"
            pm.load_errors.append(PluginLoadError(ep.name, error, dist_name, version))
            warn(f"plugin {ep.name!r} failed to load and was skipped ({error})")
            continue
        pm.distributions[ep.name] = (dist_name, version)


def describe_plugins(pm: PluginManager) -> list[PluginInfo]:
    """What ``genmedia plugins`` prints: loaded plugins, then those that failed."""
    from genmedia import __version__
    from genmedia.types import PluginInfo

    dists = pm.distributions
    rows = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name in {n for n, _ in CORE_PLUGINS}:
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or ())
        builtin = name in pm.builtin_names
        dist, version = (DISTRIBUTION, __version__) if builtin else dists.get(name, (None, None))
        rows.append(PluginInfo(name, builtin, hooks, version, dist))
    for err in pm.load_errors:
        builtin = err.name in {n for n, _ in BUILTIN_PLUGINS}
        rows.append(
            PluginInfo(err.name, builtin, [], err.version, err.distribution, error=err.error)
        )
    return rows


class ImplFailure:
    """What a guarded implementation returns instead of raising (see :data:`GUARDED_HOOKS`).

    ``plugin`` is the plugin's name, ``hook`` the hook's, ``error`` the exception. It is an
    ordinary element of the hook's result list, so wrappers and tracing see it too.
    """

    __slots__ = ("error", "hook", "plugin")

    def __init__(self, plugin: str, hook: str, error: Exception) -> None:
        self.plugin, self.hook, self.error = plugin, hook, error

    def __repr__(self) -> str:
        return f"ImplFailure({self.plugin!r}, {self.hook!r}, {self.error!r})"


def _guard(impl: Any, hook: str) -> None:
    """Make ``impl`` return an :class:`ImplFailure` instead of raising an ``Exception``
    (``KeyboardInterrupt`` and other ``BaseException`` still propagate)."""
    import functools

    function = impl.function
    if getattr(function, "__genmedia_guarded__", False):
        return

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            return ImplFailure(impl.plugin_name, hook, exc)

    guarded.__genmedia_guarded__ = True  # type: ignore[attr-defined]
    impl.function = guarded


def split_failures(
    app: Any, hook: str, results: Iterable[Any], *, warn: bool = True
) -> tuple[list[Any], list[ImplFailure]]:
    """A guarded hook's results without the :class:`ImplFailure` entries, and those.

    With ``warn`` each failure is a warning (``plugin 'x' failed in <hook>: …``), with a
    traceback under ``--debug``.
    """
    good: list[Any] = []
    failed: list[ImplFailure] = []
    for item in results or ():
        (failed if isinstance(item, ImplFailure) else good).append(item)
    for failure in failed:
        if app.debug:
            app.print_traceback(failure.error)
        if warn:
            app.warn(f"plugin {failure.plugin!r} failed in {hook}: {failure.error}", once=False)
    return good, failed
