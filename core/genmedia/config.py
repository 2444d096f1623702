"""Settings: the API key, output format, host overrides and where state lives.

Precedence, highest first:

1. runtime overrides made by plugins (``set_host``, e.g. the sandbox pointing every fal
   host at the emulator; ``set_api_key`` with a sandbox key);
2. the environment (``FAL_KEY`` always wins for the key; ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``
   next; ``GENMEDIA_<ROLE>_URL``-style variables for hosts, named by the provider);
3. the config file, ``config.json`` in the platformdirs user config directory (or
   ``$GENMEDIA_HOME``), created 0600 atomically and warned about when group/world readable;
4. built-in defaults.

``.env`` loading is opt-in (``auto_load_env`` in the config file or ``GENMEDIA_LOAD_DOTENV=1``)
and never overrides a variable that is already set. The key is never printed: ``repr`` and
every output show :func:`mask_key` only.
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
#: key sources whose key is a public placeholder, not a secret (never redacted).
PUBLIC_KEY_SOURCES = frozenset({"sandbox"})
_SOURCES = {
    "env:FAL_KEY": "FAL_KEY",
    "env:FAL_KEY_ID": "FAL_KEY_ID/FAL_KEY_SECRET",
    "config": "the config file",
}


def mask_key(key: str | None) -> str | None:
    """``"1234abcd-…:secret"`` → ``"1234…****"``; never more than 4 characters shown."""
    if not key:
        return None
    head = key[:4]
    if len(key) < 12 or not all(33 <= ord(c) <= 126 for c in head):
        return "****"
    return head + "…****"


def key_problem(key: str) -> str | None:
    """Why ``key`` (already stripped) cannot be a fal key, or None. Never names the
    offending character: the message must not reveal any part of the key."""
    for ch in key:
        code = ord(ch)
        if ch.isspace():
            return "it contains whitespace inside the key"
        if code < 32 or code == 127:
            return "it contains a control character"
        if code > 126:
            return "it contains a non-ASCII character"
    return None


def clean_key(value: str | None, *, secret: bool = True) -> str | None:
    """A key from any source with surrounding whitespace (a CRLF ``.env``, a trailing
    newline) removed; registered with the redactor in its raw and stripped forms."""
    if value is None:
        return None
    if secret:
        from genmedia.redact import register_secret

        register_secret(value)
    return value.strip() or None


@attrs.define(repr=False)
class Settings:
    """The resolved settings of one process. Plugins read it in ``genmedia_configure``."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    file_values: dict[str, Any] = attrs.field(factory=dict)
    output_format: str = "auto"
    auto_load_env: bool = False
    sandbox: bool = False
    #: set by the plugin that actually started a sandbox, so output can say so.
    sandbox_active: bool = False
    #: the command words that reach this configuration again, used in every printed hint
    #: (resume commands); a plugin may extend it (the sandbox sets "genmedia --sandbox").
    invocation: str = "genmedia"
    _api_key: str | None = None
    api_key_source: str | None = None
    #: why the configured key is unusable (raised as a ConfigError when the key is used).
    _key_error: str | None = None
    _host_overrides: dict[str, str] = attrs.field(factory=dict)
    warnings: list[str] = attrs.field(factory=list)

    def __repr__(self) -> str:
        return (
            f"Settings(config_dir={str(self.config_dir)!r}, output_format={self.output_format!r}, "
            f"sandbox={self.sandbox!r}, api_key={mask_key(self._api_key)!r}, "
            f"api_key_source={self.api_key_source!r})"
        )

    # -- key ---------------------------------------------------------------------------

    @property
    def api_key(self) -> str | None:
        """The key, stripped; a key that cannot be sent (whitespace, control or non-ASCII
        characters inside it) is a :class:`ConfigError` showing only its masked form."""
        if self._key_error is not None:
            raise ConfigError(
                f"The fal API key from {_SOURCES.get(self.api_key_source or '', 'config')} "
                f"is malformed: {self._key_error}",
                {
                    "source": self.api_key_source,
                    "api_key": mask_key(self._api_key),
                    "hint": "a fal key is <key id>:<key secret> in printable ASCII; set it "
                    "again (export FAL_KEY=..., or genmedia setup)",
                },
            )
        return self._api_key

    @property
    def masked_key(self) -> str | None:
        return mask_key(self._api_key)

    def set_api_key(self, key: str | None, *, source: str) -> None:
        """Use ``key`` (stripped); it is registered with the redactor unless it is a
        public placeholder (the emulator's ``sandbox`` key)."""
        key = clean_key(key, secret=source not in PUBLIC_KEY_SOURCES)
        self._api_key = key
        self.api_key_source = source if key else None
        self._key_error = key_problem(key) if key else None

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


def load_settings(*, sandbox: bool = False, output_format: str | None = None) -> Settings:
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

    settings = Settings(
        config_dir=config_dir,
        data_dir=data_dir,
        cache_dir=cache_dir,
        file_values=values,
        output_format=fmt,
        auto_load_env=auto_env,
        sandbox=sandbox or truthy(os.environ.get("GENMEDIA_SANDBOX")),
        warnings=warnings,
    )
    # Every source is stripped (a trailing newline, a CRLF .env, pasted spaces).
    env_key = clean_key(os.environ.get("FAL_KEY"))
    key_id = clean_key(os.environ.get("FAL_KEY_ID"))
    key_secret = clean_key(os.environ.get("FAL_KEY_SECRET"))
    file_key = values.get("api_key")
    if env_key:
        settings.set_api_key(env_key, source="env:FAL_KEY")
    elif key_id and key_secret:
        settings.set_api_key(f"{key_id}:{key_secret}", source="env:FAL_KEY_ID")
    elif isinstance(file_key, str) and clean_key(file_key):
        settings.set_api_key(file_key, source="config")
    for name, kind in (("api_key", str), ("output_format", str), ("hosts", dict)):
        if name in values and values[name] is not None and not isinstance(values[name], kind):
            settings.warnings.append(
                f"ignoring {name!r} in {path}: expected a {kind.__name__}, "
                f"got {type(values[name]).__name__}"
            )
    return settings
