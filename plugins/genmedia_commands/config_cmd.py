"""``genmedia config list|get|set|unset|path``: read and change the config file by key.

Only declared keys can be set (the core's :data:`CORE_KEYS` and the plugins', from the
``genmedia_config_keys`` hook), each validated before anything is written; the
file is rewritten atomically with mode 0600 (see :mod:`genmedia.config`). Credentials come
from the providers (``Provider.credential()``, a :class:`genmedia.provider.Credential`):
never shown unmasked and never set here (they would land in the shell's history); each
one's ``hint`` says how to set it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import click

from genmedia import errors
from genmedia.cli import get_app
from genmedia.configkeys import ConfigKey, boolean, choice, name
from genmedia.output import emit

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.config import Settings
    from genmedia.context import AppContext
    from genmedia.provider import Credential


#: the core's own keys; plugins add theirs with the ``genmedia_config_keys`` hook.
CORE_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "output_format",
        ("output_format",),
        choice("auto", "json", "pretty"),
        "auto",
        "auto (JSON when stdout is not a terminal), json or pretty",
        env="GENMEDIA_OUTPUT",
    ),
    ConfigKey(
        "auto_load_env",
        ("auto_load_env",),
        boolean,
        False,
        "load ./.env (never overriding variables already set)",
        env="GENMEDIA_LOAD_DOTENV",
    ),
    ConfigKey(
        "default_provider",
        ("default_provider",),
        name,
        None,
        "the provider for `models`, `upload` and endpoints no provider claims",
    ),
    ConfigKey(
        "history.enabled",
        ("plugins", "history", "enabled"),
        boolean,
        True,
        "record runs in the local journal",
    ),
)


def all_keys(app: AppContext) -> tuple[ConfigKey, ...]:
    """The core's keys, then every plugin's (``genmedia_config_keys``), by name."""
    keys = {k.name: k for k in CORE_KEYS}
    for contributed in app.pm.hook.genmedia_config_keys():
        for key in contributed or ():
            keys.setdefault(key.name, key)
    return tuple(keys.values())


def _lookup(app: AppContext, key_name: str) -> ConfigKey | None:
    return next((k for k in all_keys(app) if k.name == key_name), None)


def _complete_key(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    app = get_app(ctx)
    names = [(k.name, k.help) for k in all_keys(app)]
    names += [(c.key, c.description) for c in credentials(app)]
    return [CompletionItem(n, help=h) for n, h in names if n.startswith(incomplete)]


def _get_path(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _entry(settings: Settings, key: ConfigKey) -> dict[str, Any]:
    stored = _get_path(settings.file_values, key.path)
    if key.env and os.environ.get(key.env):
        value, source = os.environ[key.env], f"env:{key.env}"
    elif stored is not None:
        value, source = stored, "config"
    else:
        value, source = key.default, "default"
    return {"key": key.name, "value": value, "source": source, "description": key.help}


def credentials(app: AppContext) -> list[Credential]:
    """Every provider's credential (masked), by key name."""
    found: dict[str, Credential] = {}
    for provider in app.providers.values():
        credential = provider.credential()
        if credential is not None:
            found.setdefault(credential.key, credential)
    return list(found.values())


def _credential(app: AppContext, key_name: str) -> Credential | None:
    return next((c for c in credentials(app) if c.key == key_name), None)


def _credential_entry(credential: Credential) -> dict[str, Any]:
    return {
        "key": credential.key,
        "value": credential.masked,  # never more than four characters of it
        "source": credential.source or "unset",
        "description": credential.description,
    }


def _unknown(app: AppContext, key_name: str) -> errors.UsageError:
    import difflib

    names = [*(k.name for k in all_keys(app)), *(c.key for c in credentials(app))]
    details: dict[str, Any] = {"key": key_name, "keys": names}
    close = difflib.get_close_matches(key_name, names, n=3)
    if close:
        details["did_you_mean"] = close
    return errors.UsageError(f"Unknown config key: {key_name}", details)


def _render_list(doc: dict[str, Any], console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table("key", "value", "source", box=None)
    for row in doc["values"]:
        table.add_row(row["key"], escape(_show(row["value"])), row["source"])
    console.print(table)
    console.print(f"[dim]config file: {escape(doc['path'])}[/]", markup=True)


@click.group("config")
def config() -> None:
    """Read and change settings in the config file (genmedia config list)."""


@config.command("path")
@click.pass_context
def config_path(ctx: click.Context) -> None:
    """Print the config file's path (it may not exist yet)."""
    app = get_app(ctx)
    path = str(app.settings.config_path)
    emit(app, {"path": path, "exists": app.settings.config_path.exists()},
         pretty=lambda doc, console: console.print(doc["path"]))  # fmt: skip


@config.command("list")
@click.pass_context
def config_list(ctx: click.Context) -> None:
    """Every setting with its effective value and where it comes from."""
    app = get_app(ctx)
    settings = app.settings
    rows = [
        *map(_credential_entry, credentials(app)),
        *(_entry(settings, k) for k in all_keys(app)),
    ]
    emit(app, {"path": str(settings.config_path), "values": rows}, pretty=_render_list)


@config.command("get")
@click.argument("key", shell_complete=_complete_key)
@click.pass_context
def config_get(ctx: click.Context, key: str) -> None:
    """Print one setting's effective value (the API key masked)."""
    app = get_app(ctx)
    credential = _credential(app, key)
    if credential is not None:
        entry = _credential_entry(credential)
    else:
        spec = _lookup(app, key)
        if spec is None:
            raise _unknown(app, key)
        entry = _entry(app.settings, spec)

    emit(app, entry, pretty=lambda doc, console: console.print(_show(doc["value"])))


def _rewrite(settings: Settings, change: Callable[[dict[str, Any]], bool]) -> bool:
    """Re-read the file (other processes may have written it), apply ``change``, write."""
    from genmedia.config import read_config_file, write_config_file

    values, _warnings = read_config_file(settings.config_path)
    changed = change(values)
    if changed:
        write_config_file(settings.config_path, values)
    settings.file_values = values
    return changed


@config.command("set")
@click.argument("key", shell_complete=_complete_key)
@click.argument("value")
@click.pass_context
def config_set(ctx: click.Context, key: str, value: str) -> None:
    """Validate VALUE and store it under KEY in the config file."""
    app = get_app(ctx)
    credential = _credential(app, key)
    if credential is not None:
        raise errors.UsageError(
            f"The credential {key} is not set with `config set` (it would stay in your "
            "shell history)",
            {"hint": credential.hint},
        )
    spec = _lookup(app, key)
    if spec is None:
        raise _unknown(app, key)
    try:
        parsed = spec.parse(value)
    except ValueError as exc:
        raise errors.UsageError(
            f"Invalid value for {key}: {value!r}", {"key": key, "reason": str(exc)}
        ) from None

    def change(values: dict[str, Any]) -> bool:
        node = values
        for part in spec.path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        before = node.get(spec.path[-1], attrs.NOTHING)
        node[spec.path[-1]] = parsed
        return bool(before != parsed)

    changed = _rewrite(app.settings, change)
    entry = _entry(app.settings, spec)
    entry["updated"] = changed
    if entry["source"] != "config":
        app.warn(f"{key} is overridden by {entry['source']} in this environment")
    emit(app, entry, pretty=lambda doc, console: console.print(f"{key} = {_show(parsed)}"))


@config.command("unset")
@click.argument("key", shell_complete=_complete_key)
@click.pass_context
def config_unset(ctx: click.Context, key: str) -> None:
    """Remove KEY from the config file (back to its default)."""
    app = get_app(ctx)
    path: tuple[str, ...]
    credential = _credential(app, key)
    if credential is not None:
        path = credential.path
    else:
        spec = _lookup(app, key)
        if spec is None:
            raise _unknown(app, key)
        path = spec.path

    def change(values: dict[str, Any]) -> bool:
        parents = [values]
        for part in path[:-1]:
            node = parents[-1].get(part)
            if not isinstance(node, dict):
                return False
            parents.append(node)
        if path[-1] not in parents[-1]:
            return False
        del parents[-1][path[-1]]
        for depth in range(len(parents) - 1, 0, -1):  # drop sections left empty
            if not parents[depth]:
                del parents[depth - 1][path[depth - 1]]
        return True

    changed = _rewrite(app.settings, change)
    doc = {"key": key, "removed": changed}
    emit(app, doc, pretty=lambda d, console: console.print(
        f"{key} removed" if d["removed"] else f"{key} was not set"))  # fmt: skip


def _show(value: Any) -> str:
    """A value as a person types it: ``true`` not ``True``, nothing for unset."""
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)
