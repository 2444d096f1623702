"""fal's credentials: the fal provider resolves its own key (the core knows no key).

Precedence, highest first: a runtime override set by a plugin in ``genmedia_configure``
(:meth:`genmedia.config.Settings.set_credential` with provider ``"fal"``: the sandbox sets
its public placeholder key), ``FAL_KEY``, ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``, then the
config file's ``api_key`` (written by ``genmedia setup``). Every source is stripped (a
trailing newline, a CRLF ``.env``, pasted spaces) and registered with the redactor in its
raw and stripped forms; a key with whitespace, control or non-ASCII characters inside it
is refused with a :class:`~genmedia.errors.ConfigError` (exit 10) showing the masked form only.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import attrs

from genmedia.errors import ConfigError
from genmedia.redact import mask, register_secret

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.config import Settings

#: the name fal's credential override is stored under in the settings.
PROVIDER = "fal"
SOURCES = {
    "env:FAL_KEY": "FAL_KEY",
    "env:FAL_KEY_ID": "FAL_KEY_ID/FAL_KEY_SECRET",
    "config": "the config file",
}


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
    """A key from any source, stripped; registered with the redactor in its raw and
    stripped forms (unless it is a public placeholder)."""
    if value is None:
        return None
    if secret:
        register_secret(value)
    return value.strip() or None


@attrs.frozen(repr=False)
class FalKey:
    """The resolved key: ``key`` (stripped, may be None), where it came from and, for a
    key that cannot be sent, why. ``repr`` shows the masked form only."""

    key: str | None
    source: str | None
    problem: str | None = None

    def __repr__(self) -> str:
        return f"FalKey(key={mask(self.key)!r}, source={self.source!r})"

    @property
    def masked(self) -> str | None:
        return mask(self.key)

    def usable(self) -> str | None:
        """The key, or a :class:`ConfigError` naming its source when it is malformed."""
        if self.problem is not None:
            raise ConfigError(
                f"The fal API key from {SOURCES.get(self.source or '', 'config')} "
                f"is malformed: {self.problem}",
                {
                    "source": self.source,
                    "api_key": self.masked,
                    "hint": "a fal key is <key id>:<key secret> in printable ASCII; set it "
                    "again (export FAL_KEY=..., or genmedia setup)",
                },
            )
        return self.key


def resolve_key(settings: Settings) -> FalKey:
    """fal's key for these settings (see the module docstring for the precedence)."""
    override = settings.credential(PROVIDER)
    if override is not None:
        key = clean_key(override.value, secret=override.secret)
        return FalKey(key, override.source if key else None, key and key_problem(key))
    env_key = clean_key(os.environ.get("FAL_KEY"))
    key_id = clean_key(os.environ.get("FAL_KEY_ID"))
    key_secret = clean_key(os.environ.get("FAL_KEY_SECRET"))
    file_key = settings.file_values.get("api_key")
    if env_key:
        key, source = env_key, "env:FAL_KEY"
    elif key_id and key_secret:
        key, source = clean_key(f"{key_id}:{key_secret}"), "env:FAL_KEY_ID"
    elif isinstance(file_key, str) and clean_key(file_key):
        key, source = clean_key(file_key), "config"
    else:
        return FalKey(None, None)
    assert key is not None
    return FalKey(key, source, key_problem(key))
