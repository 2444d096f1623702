"""Settings: output format, host overrides, plugin sections and where state lives.

Precedence, highest first:

1. runtime overrides made by plugins in ``genmedia_configure`` (``set_host``,
   ``set_credential``: e.g. an emulator plugin pointing a provider's hosts at itself);
2. the environment (``GENMEDIA_<ROLE>_URL``-style variables for hosts, named by the provider);
3. the config file, ``config.json`` in the platformdirs user config directory (or
   ``$GENMEDIA_HOME``), created 0600 atomically and warned about when group/world readable;
4. built-in defaults.

The core knows no provider's credentials: each provider resolves its own (environment,
config file, :meth:`Settings.credential` override) and registers every secret it reads
with :func:`genmedia.redact.register_secret`. ``.env`` loading is opt-in (``auto_load_env``
in the config file or ``GENMEDIA_LOAD_DOTENV=1``) and never overrides a variable that is
already set.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import attrs

from genmedia import truthy
from genmedia.errors import ConfigError

CONFIG_FILE = "config.json"
OUTPUT_FORMATS = ("auto", "json", "pretty")


@attrs.frozen(repr=False)
class CredentialOverride:
    """A credential a plugin set for a provider at runtime (never printed)."""

    value: str
    source: str
    #: False for a public placeholder (an emulator's documented key): never redacted.
    secret: bool = True

    def __repr__(self) -> str:
        return f"CredentialOverride(source={self.source!r}, secret={self.secret!r})"


@attrs.define(repr=False)
class Settings:
    """The resolved settings of one process. Plugins read it in ``genmedia_configure``."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    file_values: dict[str, Any] = attrs.field(factory=dict)
    output_format: str = "auto"
    auto_load_env: bool = False
    #: the parsed global options of this invocation (plugin-contributed ones included),
    #: by parameter name: a plugin reads its own global option here in ``genmedia_configure``.
    options: dict[str, Any] = attrs.field(factory=dict)
    #: keys a plugin adds to every JSON output document (e.g. ``{"sandbox": True}``); the
    #: pretty view leaves them out.
    marks: dict[str, Any] = attrs.field(factory=dict)
    #: lines printed once on stderr in pretty mode before a command's work.
    banners: list[str] = attrs.field(factory=list)
    #: the command words that reach this configuration again, used in every printed hint
    #: (resume commands); a plugin may extend it (e.g. "genmedia --sandbox").
    invocation: str = "genmedia"
    _credentials: dict[str, CredentialOverride] = attrs.field(factory=dict)
    _host_overrides: dict[str, str] = attrs.field(factory=dict)
    warnings: list[str] = attrs.field(factory=list)

    def __repr__(self) -> str:
        return (
            f"Settings(config_dir={str(self.config_dir)!r}, "
            f"output_format={self.output_format!r}, marks={self.marks!r})"
        )

    # -- credentials -------------------------------------------------------------------

    def set_credential(
        self, provider: str, value: str, *, source: str, secret: bool = True
    ) -> None:
        """Make ``provider`` use ``value`` as its credential for this process (highest
        precedence); a secret one is registered with the redactor at once."""
        if secret:
            from genmedia.redact import register_secret

            register_secret(value)
        self._credentials[provider] = CredentialOverride(value, source, secret)

    def credential(self, provider: str) -> CredentialOverride | None:
        """The runtime credential override of ``provider``, or None (providers then read
        their own environment variables and config keys)."""
        return self._credentials.get(provider)

    # -- hosts -------------------------------------------------------------------------

    def host(self, role: str, *, env: str | None = None, default: str) -> str:
        """The base URL for a host ``role`` (e.g. ``"queue"``), without a trailing slash.

        Runtime override, then the environment variable ``env``, then the config file's
        ``hosts`` mapping, then ``default``.
        """
        hosts = self.file_values.get("hosts") or {}
        for value in (
            self._host_overrides.get(role),
            os.environ.get(env) if env else None,
            hosts.get(role) if isinstance(hosts, dict) else None,
        ):
            if value:
                return str(value).rstrip("/")
        return default.rstrip("/")

    def set_host(self, role: str, url: str) -> None:
        """Override a host for this process (highest precedence)."""
        self._host_overrides[role] = url.rstrip("/")

    def plugin_config(self, name: str) -> dict[str, Any]:
        """The config file's ``plugins.<name>`` section (``{}`` when absent)."""
        section = (self.file_values.get("plugins") or {}).get(name) or {}
        return dict(section) if isinstance(section, dict) else {}

    @property
    def config_path(self) -> Path:
        return self.config_dir / CONFIG_FILE


def default_dirs() -> tuple[Path, Path, Path]:
    """(config, data, cache) directories: ``$GENMEDIA_HOME/{config,data,cache}`` or
    platformdirs; ``$GENMEDIA_CACHE_DIR`` moves the cache directory alone."""
    home = os.environ.get("GENMEDIA_HOME")
    cache = os.environ.get("GENMEDIA_CACHE_DIR")
    if home:
        base = Path(home).expanduser()
        dirs = base / "config", base / "data", base / "cache"
    else:
        import platformdirs

        dirs = (
            Path(platformdirs.user_config_dir("genmedia")),
            Path(platformdirs.user_data_dir("genmedia")),
            Path(platformdirs.user_cache_dir("genmedia")),
        )
    return (dirs[0], dirs[1], Path(cache).expanduser()) if cache else dirs


def read_config_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Read ``config.json``; a missing file is ``{}``, anything unreadable is a ConfigError."""
    warnings: list[str] = []
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}, warnings
    except OSError as exc:
        raise ConfigError(
            f"Cannot read config file: {path}", {"path": str(path), "reason": exc.strerror}
        ) from None
    if sys.platform != "win32" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.append(
            f"config file {path} is readable by other users (mode {stat.S_IMODE(st.st_mode):o});"
            f" run: chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ConfigError(
            f"Cannot read config file: {path}", {"path": str(path), "reason": reason}
        ) from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"Malformed config file: {path}",
            {"path": str(path), "reason": f"{exc.msg} at line {exc.lineno} column {exc.colno}"},
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"Malformed config file: {path}",
            {"path": str(path), "reason": "expected a JSON object"},
        )
    return data, warnings


def write_config_file(path: Path, values: dict[str, Any]) -> None:
    """Write ``values`` atomically with mode 0600 from the start (never chmod-ed after)."""
    from genmedia.files import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(values, indent=2, sort_keys=True) + "\n", mode=0o600)


def load_dotenv(path: Path) -> list[str]:
    """Load ``KEY=VALUE`` lines from ``path`` without overriding the environment."""
    if not path.is_file():
        return []
    from dotenv import dotenv_values

    loaded = []
    for key, value in dotenv_values(path).items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
            loaded.append(key)
    return loaded


def load_settings(*, output_format: str | None = None) -> Settings:
    """Resolve settings from the environment and the config file (see module docstring)."""
    config_dir, data_dir, cache_dir = default_dirs()
    path = config_dir / CONFIG_FILE
    values, warnings = read_config_file(path)

    auto_env = bool(values.get("auto_load_env")) or truthy(os.environ.get("GENMEDIA_LOAD_DOTENV"))
    if auto_env:
        load_dotenv(Path.cwd() / ".env")

    fmt = output_format or os.environ.get("GENMEDIA_OUTPUT") or values.get("output_format")
    fmt = str(fmt or "auto").lower()
    if fmt not in OUTPUT_FORMATS:
        warnings.append(f"ignoring unknown output format {fmt!r} (use one of auto, json, pretty)")
        fmt = "auto"
    for name, kind in (("output_format", str), ("hosts", dict)):
        if name in values and values[name] is not None and not isinstance(values[name], kind):
            warnings.append(
                f"ignoring {name!r} in {path}: expected a {kind.__name__}, "
                f"got {type(values[name]).__name__}"
            )
    return Settings(
        config_dir=config_dir,
        data_dir=data_dir,
        cache_dir=cache_dir,
        file_values=values,
        output_format=fmt,
        auto_load_env=auto_env,
        warnings=warnings,
    )
