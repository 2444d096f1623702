"""The stand-in for openapi-schema-validator's settings module (genmedia_sandbox.osv_settings).

It keeps pydantic off the emulator's start-up; these tests fail when an upgrade of
openapi-schema-validator changes what the real module declares, so the stand-in can never
drift from it silently.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from genmedia_sandbox import osv_settings


def _real_settings_module():
    spec = importlib.util.find_spec("openapi_schema_validator")
    path = Path(next(iter(spec.submodule_search_locations))) / "settings.py"
    if not path.is_file():
        pytest.skip("this openapi-schema-validator has no settings module (nothing stood in)")
    real_spec = importlib.util.spec_from_file_location("_real_osv_settings", path)
    module = importlib.util.module_from_spec(real_spec)
    real_spec.loader.exec_module(module)
    return module


def test_the_stand_in_declares_what_the_real_settings_declare():
    real = _real_settings_module()
    cls = real.OpenAPISchemaValidatorSettings
    assert cls.model_config.get("env_prefix") == osv_settings.ENV_PREFIX
    declared = {}
    for name, field in cls.model_fields.items():
        bounds = [getattr(m, "ge", None) for m in field.metadata if hasattr(m, "ge")]
        others = [m for m in field.metadata if not hasattr(m, "ge")]
        assert not others, f"{name}: a constraint the stand-in does not apply: {others}"
        assert field.annotation is int, f"{name}: the stand-in reads integers only"
        declared[name] = (field.default, bounds[0] if bounds else None)
    assert declared == osv_settings.FIELDS
    public = {n for n in vars(real) if not n.startswith("_") and callable(getattr(real, n))}
    assert {"OpenAPISchemaValidatorSettings", "get_settings", "reset_settings_cache"} <= public


@pytest.mark.parametrize("raw", [None, "0", "7", "128"])
def test_the_stand_in_reads_the_environment_like_the_real_one(monkeypatch, raw):
    name = osv_settings.ENV_PREFIX + "COMPILED_VALIDATOR_CACHE_MAX_SIZE"
    if raw is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, raw)
    real = _real_settings_module()
    ours = osv_settings.OpenAPISchemaValidatorSettings()
    assert ours.compiled_validator_cache_max_size == (
        real.OpenAPISchemaValidatorSettings().compiled_validator_cache_max_size
    )


def test_a_negative_size_is_refused_like_the_real_one(monkeypatch):
    monkeypatch.setenv(osv_settings.ENV_PREFIX + "COMPILED_VALIDATOR_CACHE_MAX_SIZE", "-1")
    real = _real_settings_module()
    with pytest.raises(ValueError):
        real.OpenAPISchemaValidatorSettings()
    with pytest.raises(ValueError):
        osv_settings.OpenAPISchemaValidatorSettings()


def test_the_input_validator_works_without_pydantic():
    """A fresh process: building the emulator's input validator and rejecting a bad input
    imports neither pydantic nor pydantic-settings, and the cache reads the stand-in."""
    code = """
import sys
from genmedia_sandbox.validation import InputValidator
doc = {"components": {"schemas": {"In": {"type": "object", "required": ["prompt"],
        "properties": {"prompt": {"type": "string"}, "seed": {"type": "integer",
        "nullable": True}}}}}}
v = InputValidator()
assert v.errors(doc, "In", {"prompt": "x", "seed": None}) == []
assert [e["type"] for e in v.errors(doc, "In", {"seed": "x"})] == ["missing", "int_type"]
from openapi_schema_validator.settings import get_settings
assert get_settings().compiled_validator_cache_max_size == 128
print(sorted(m for m in ("pydantic", "pydantic_settings") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stderr
