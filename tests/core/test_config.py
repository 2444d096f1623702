"""Settings: key precedence, masking, hosts, .env, plugin sections."""

from __future__ import annotations

import json

from genmedia.config import load_settings, mask_key


def test_fal_key_env_wins_over_config(isolated_env, monkeypatch):
    cfg = isolated_env / "config" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"api_key": "from-config-123456"}))
    cfg.chmod(0o600)
    assert load_settings().api_key_source == "config"
    monkeypatch.setenv("FAL_KEY_ID", "id")
    monkeypatch.setenv("FAL_KEY_SECRET", "secret")
    s = load_settings()
    assert (s.api_key, s.api_key_source) == ("id:secret", "env:FAL_KEY_ID")
    monkeypatch.setenv("FAL_KEY", "envkey-abcdefgh")
    s = load_settings()
    assert (s.api_key, s.api_key_source) == ("envkey-abcdefgh", "env:FAL_KEY")


def test_key_never_in_repr(monkeypatch):
    monkeypatch.setenv("FAL_KEY", "supersecretkeyvalue:123456")
    s = load_settings()
    assert "supersecret" not in repr(s)
    assert s.masked_key == "supe…****"
    assert mask_key("short") == "****"
    assert mask_key(None) is None


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
    (tmp_path / ".env").write_text('FAL_KEY="from-dotenv-1234"\nGM_OTHER=1\n')
    monkeypatch.delenv("GM_OTHER", raising=False)
    assert load_settings().api_key is None
    monkeypatch.setenv("GENMEDIA_LOAD_DOTENV", "1")
    s = load_settings()
    assert s.api_key == "from-dotenv-1234"
    monkeypatch.setenv("FAL_KEY", "already-set-123456")
    assert load_settings().api_key == "already-set-123456"


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
    cfg.write_text(json.dumps({"api_key": 5, "hosts": "nope"}))
    cfg.chmod(0o600)
    s = load_settings()
    assert s.api_key is None
    assert any("'api_key'" in w and "expected a str, got int" in w for w in s.warnings)
    assert any("'hosts'" in w for w in s.warnings)
