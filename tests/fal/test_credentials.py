"""fal's key is resolved by the fal plugin, not the core: precedence, masking, .env,
the runtime override an emulator sets, a config file value of the wrong type."""

from __future__ import annotations

import json

from genmedia.config import load_settings
from genmedia_fal.credentials import resolve_key


def _key(**_: object) -> tuple[str | None, str | None]:
    found = resolve_key(load_settings())
    return found.key, found.source


def test_fal_key_env_wins_over_config(isolated_env, monkeypatch):
    cfg = isolated_env / "config" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"api_key": "from-config-123456"}))
    cfg.chmod(0o600)
    assert _key() == ("from-config-123456", "config")
    monkeypatch.setenv("FAL_KEY_ID", "id")
    monkeypatch.setenv("FAL_KEY_SECRET", "secret")
    assert _key() == ("id:secret", "env:FAL_KEY_ID")
    monkeypatch.setenv("FAL_KEY", "envkey-abcdefgh")
    assert _key() == ("envkey-abcdefgh", "env:FAL_KEY")


def test_a_runtime_override_wins_and_a_public_one_is_not_redacted(isolated_env, monkeypatch):
    from genmedia.redact import redact

    monkeypatch.setenv("FAL_KEY", "envkey-abcdefgh")
    settings = load_settings()
    settings.set_credential("fal", "sandbox-key:offline-rehearsal", source="sandbox", secret=False)
    found = resolve_key(settings)
    assert (found.key, found.source) == ("sandbox-key:offline-rehearsal", "sandbox")
    assert redact("sandbox-key:offline-rehearsal") == "sandbox-key:offline-rehearsal"
    plain = resolve_key(load_settings())  # no override: the environment's key, registered
    assert plain.source == "env:FAL_KEY" and redact("envkey-abcdefgh") == "****"


def test_key_never_in_repr(monkeypatch):
    monkeypatch.setenv("FAL_KEY", "supersecretkeyvalue:123456")
    found = resolve_key(load_settings())
    assert "supersecret" not in repr(found)
    assert found.masked == "supe…****"


def test_dotenv_key_is_opt_in_and_never_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text('FAL_KEY="from-dotenv-1234"\nGM_OTHER=1\n')
    monkeypatch.delenv("GM_OTHER", raising=False)
    assert _key() == (None, None)
    monkeypatch.setenv("GENMEDIA_LOAD_DOTENV", "1")
    assert _key()[0] == "from-dotenv-1234"
    monkeypatch.setenv("FAL_KEY", "already-set-123456")
    assert _key()[0] == "already-set-123456"


def test_a_config_file_key_that_is_not_text_is_warned_about(cli, isolated_env):
    cfg = isolated_env / "config" / "config.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(json.dumps({"api_key": 5}))
    cfg.chmod(0o600)
    assert _key() == (None, None)
    result = cli("config", "get", "api_key", "--json")
    assert result.exit_code == 0, result
    assert result.json["source"] == "unset"
    assert any("'api_key'" in w and "expected a str, got int" in w for w in result.json["warnings"])
