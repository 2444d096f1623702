"""A light stand-in for ``openapi_schema_validator.settings`` (the emulator's start-up cost).

openapi-schema-validator 0.8 reads one setting, the size of its compiled-validator cache
(``OPENAPI_SCHEMA_VALIDATOR_COMPILED_VALIDATOR_CACHE_MAX_SIZE``, default 128), through a
pydantic-settings class: importing the package then imports pydantic and pydantic-settings,
about 0.2 s of a ``genmedia --sandbox run`` on a 2-core machine, for one integer.

:func:`install` puts this module's equivalent in ``sys.modules`` before the package is first
imported, when the installed package has such a settings module and the real one is not
loaded yet; versions without it (0.6, 0.7) are left alone. The stand-in reads the same
variable with the same default and bound, and exposes the same names
(``OpenAPISchemaValidatorSettings``, ``get_settings``, ``reset_settings_cache``).
``tests/sandbox/test_osv_settings.py`` compares it with the real module of the installed
version, field by field, so an upgrade that adds or changes a setting fails there instead of
being ignored silently.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from importlib.util import find_spec
from pathlib import Path

NAME = "openapi_schema_validator.settings"
ENV_PREFIX = "OPENAPI_SCHEMA_VALIDATOR_"
#: field → (default, lower bound): what the real pydantic class declares.
FIELDS: dict[str, tuple[int, int]] = {"compiled_validator_cache_max_size": (128, 0)}


class OpenAPISchemaValidatorSettings:
    """The real class's fields, read from the same environment variables."""

    def __init__(self) -> None:
        for field, (default, minimum) in FIELDS.items():
            raw = os.environ.get(ENV_PREFIX + field.upper())
            value = default
            if raw is not None and raw.strip():
                try:
                    value = int(raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX + field.upper()} must be an integer") from None
                if value < minimum:
                    raise ValueError(f"{ENV_PREFIX + field.upper()} must be >= {minimum}")
            setattr(self, field, value)


@functools.lru_cache(maxsize=1)
def get_settings() -> OpenAPISchemaValidatorSettings:
    return OpenAPISchemaValidatorSettings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()


def needed() -> bool:
    """Whether the installed openapi-schema-validator has a settings module not loaded yet."""
    if NAME in sys.modules or "openapi_schema_validator" in sys.modules:
        return False
    spec = find_spec("openapi_schema_validator")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return any((Path(where) / "settings.py").is_file() for where in locations)


def install() -> None:
    """Register the stand-in as ``openapi_schema_validator.settings`` (when :func:`needed`)."""
    if not needed():
        return
    module = types.ModuleType(NAME, __doc__)
    module.OpenAPISchemaValidatorSettings = OpenAPISchemaValidatorSettings  # type: ignore[attr-defined]
    module.get_settings = get_settings  # type: ignore[attr-defined]
    module.reset_settings_cache = reset_settings_cache  # type: ignore[attr-defined]
    module.__genmedia_stand_in__ = True  # type: ignore[attr-defined]
    sys.modules[NAME] = module
