"""setup: the config file is created 0600, runs are idempotent, the key is never printed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

KEY = "abcd1234-5678:0123456789secret"


def config_path(home: Path) -> Path:
    return home / "config" / "config.json"


def test_non_interactive_creates_a_private_config(cli, isolated_env):
    result = cli(
        "setup", "--non-interactive", "--api-key", KEY, "--output-format", "json", "--auto-load-env"
    )
    assert result.exit_code == 0, result
    path = config_path(isolated_env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "api_key": KEY,
        "output_format": "json",
        "auto_load_env": True,
    }
    doc = result.json
    assert doc["changed"] is True and doc["config_path"] == str(path)
    assert doc["api_key"] == "abcd…****"
    assert KEY not in result.stdout + result.stderr
    assert "secret" not in result.stdout + result.stderr


def test_setup_is_idempotent(cli, isolated_env):
    args = ("setup", "--non-interactive", "--api-key", KEY, "--output-format", "pretty")
    assert cli(*args).json["changed"] is True
    path = config_path(isolated_env)
    before = path.stat().st_mtime_ns, path.read_text()
    again = cli(*args, "--json")
    assert again.exit_code == 0 and again.json["changed"] is False
    assert (path.stat().st_mtime_ns, path.read_text()) == before
    # changing one setting keeps the others
    third = cli("setup", "--non-interactive", "--no-auto-load-env", "--json")
    assert third.json["changed"] is True
    assert json.loads(path.read_text()) == {
        "api_key": KEY,
        "output_format": "pretty",
        "auto_load_env": False,
    }


def test_interactive_prompts_with_a_hidden_key(cli, isolated_env):
    result = cli("setup", "--json", input=f"{KEY}\njson\ny\n")
    assert result.exit_code == 0, result
    assert json.loads(config_path(isolated_env).read_text()) == {
        "api_key": KEY,
        "output_format": "json",
        "auto_load_env": True,
    }
    assert KEY not in result.stdout + result.stderr
    # Enter keeps the saved key and answers
    again = cli("setup", "--json", input="\n\n\n")
    assert again.exit_code == 0 and again.json["changed"] is False


def test_api_key_from_stdin_and_the_saved_key_is_used(
    cli, isolated_env, fal_sandbox_env, monkeypatch
):
    monkeypatch.delenv("FAL_KEY")
    fal_sandbox_env.register_key(KEY)  # the emulator accepts only keys it knows, as fal does
    assert cli("setup", "--non-interactive", "--api-key", "-", input=KEY + "\n").exit_code == 0
    assert json.loads(config_path(isolated_env).read_text())["api_key"] == KEY
    result = cli("pricing", "fal-ai/flux/dev")
    assert result.exit_code == 0, result
