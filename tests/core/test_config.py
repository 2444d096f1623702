"""Settings: credential overrides, masking, hosts, .env, plugin sections (fal's key
precedence is tested with the fal plugin: tests/fal/test_credentials.py)."""

from __future__ import annotations

import json
import os

from genmedia.config import load_settings
from genmedia.redact import mask


def test_host_precedence(monkeypatch, isolated_env):
    cfg = isolated_env / "config" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"hosts": {"queue": "http://file/"}}))
    cfg.chmod(0o600)
    s = load_settings()
    assert s.host("queue", env="GM_Q", default="https://d") == "http://file"
    monkeypatch.setenv("GM_Q", "http://env/")
    assert s.host("queue", env="GM_Q", default="https://d") == "http://env"
    s.set_host("queue", "http://override/")
    assert s.host("queue", env="GM_Q", default="https://d") == "http://override"
    assert s.host("other", default="https://d/") == "https://d"


def test_dotenv_is_opt_in_and_never_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text('GM_DOTENV="from-dotenv-1234"\nGM_OTHER=1\n')
    monkeypatch.delenv("GM_DOTENV", raising=False)
    monkeypatch.delenv("GM_OTHER", raising=False)
    load_settings()
    assert "GM_DOTENV" not in os.environ
    monkeypatch.setenv("GENMEDIA_LOAD_DOTENV", "1")
    monkeypatch.setenv("GM_OTHER", "already-set")
    load_settings()
    assert os.environ["GM_DOTENV"] == "from-dotenv-1234"
    assert os.environ["GM_OTHER"] == "already-set"


def test_the_core_knows_no_key_and_repr_shows_no_override():
    from genmedia.config import Settings

    s = Settings(config_dir=None, data_dir=None, cache_dir=None)  # type: ignore[arg-type]
    assert not hasattr(s, "api_key")
    s.set_credential("example", "supersecretkeyvalue:123456", source="test")
    assert "supersecret" not in repr(s) and "supersecret" not in repr(s.credential("example"))
    assert s.credential("example").source == "test" and s.credential("other") is None
    assert mask("supersecretkeyvalue:123456") == "supe…****"
    assert mask("short") == "****"
    assert mask(None) is None


def test_plugin_config_and_output_format(isolated_env, monkeypatch):
    cfg = isolated_env / "config" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(
        json.dumps({"plugins": {"history": {"path": "/x.db"}}, "output_format": "bogus"})
    )
    cfg.chmod(0o600)
    s = load_settings()
    assert s.plugin_config("history") == {"path": "/x.db"}
    assert s.plugin_config("nope") == {}
    assert s.output_format == "auto"
    assert any("unknown output format" in w for w in s.warnings)


def test_wrong_typed_config_values_are_warned_about(isolated_env):
    cfg = isolated_env / "config" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"output_format": 5, "hosts": "nope"}))
    cfg.chmod(0o600)
    s = load_settings()
    assert any("'output_format'" in w and "expected a str, got int" in w for w in s.warnings)
    assert any("'hosts'" in w for w in s.warnings)
