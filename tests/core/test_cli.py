"""The CLI shell: global options, output modes, --field, errors and exit codes."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from genmedia.testing import invoke


def test_version_flag_loads_no_plugin(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("genmedia ")


def test_version_command_json(cli):
    result = cli("version", "--json")
    assert result.exit_code == 0
    doc = result.json
    assert doc["version"]
    assert "fal" in doc["plugins"]


def test_help_lists_core_and_plugin_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for name in ("run", "status", "models", "schema", "upload", "plugins", "version"):
        assert f"  {name} " in result.stdout


def test_help_json_is_the_whole_command_tree(cli):
    result = cli("--help", "--json")
    assert result.exit_code == 0
    tree = json.loads(result.stdout)
    assert tree["name"] == "genmedia"
    commands = tree["commands"]
    assert {"run", "status", "models", "schema", "upload", "plugins"} <= set(commands)
    run_opts = {p["name"] for p in commands["run"]["params"]}
    assert {"timeout", "dry_run", "cancel_on_interrupt"} <= run_opts
    assert any(p["name"] == "json_flag" for p in tree["params"])


def test_help_json_for_one_subcommand(cli):
    result = cli("plugins", "--help", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["name"] == "plugins"


def test_unknown_command_is_a_json_usage_error(cli):
    result = cli("--json", "frobnicate")
    assert result.exit_code == 2
    assert result.stdout == ""
    err = json.loads(result.stderr)
    assert set(err) == {"error", "details"}
    assert "frobnicate" in err["error"]
    assert "Traceback" not in result.stderr


def test_unknown_option_is_a_json_usage_error(cli):
    result = cli("plugins", "--bogus", "--json")
    assert result.exit_code == 2
    err = json.loads(result.stderr)
    assert "--bogus" in err["error"]
    assert err["details"]["option"] == "--bogus"


def test_missing_argument_exit_code(cli):
    result = cli("schema")
    assert result.exit_code == 2
    assert "Missing argument" in json.loads(result.stderr)["error"]


def test_json_flag_is_accepted_after_the_subcommand(cli):
    assert cli("plugins", "--json").exit_code == 0
    assert isinstance(cli("plugins", "--json").json, list)


def test_pretty_mode_is_not_json(cli):
    result = cli("version", env={"GENMEDIA_OUTPUT": "pretty"})
    assert result.exit_code == 0
    assert result.stdout.startswith("genmedia ")
    # plugins as a readable table, not a JSON blob
    assert "{" not in result.stdout and re.search(r"^fal +\S+", result.stdout, re.M)
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_a_result_that_is_not_json_says_what_the_command_did(cli):
    failed = cli("frobnicate", "--json")
    with pytest.raises(json.JSONDecodeError) as info:
        failed.json  # noqa: B018 - the property parses
    assert "exit code 2" in str(info.value) and "stdout ''" in str(info.value)
    assert "frobnicate" in str(info.value)  # the error object on stderr


def test_pretty_errors_are_readable_lines(cli):
    result = cli("frobnicate", env={"GENMEDIA_OUTPUT": "pretty"})
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")


@pytest.mark.parametrize(
    ("path", "expected"),
    [("version", None), ("plugins.fal", None)],
)
def test_field_prints_one_value(cli, path, expected):
    result = cli("--field", path, "version")
    assert result.exit_code == 0, result
    assert result.stdout.strip()


def test_field_negative_index_and_raw_strings(cli):
    doc = cli("plugins").json
    result = cli("--field", "[-1].name", "plugins")
    assert result.exit_code == 0
    assert result.stdout == doc[-1]["name"] + "\n"


def test_field_missing_path_is_an_error(cli):
    result = cli("--field", "nope.deeper", "version")
    assert result.exit_code == 2
    err = result.error
    assert err["error"] == "Field not found: nope.deeper"
    assert err["details"]["missing"] == "nope"


def test_field_invalid_path(cli):
    result = cli("--field", "a[x]", "version")
    assert result.exit_code == 2
    assert "Invalid --field path" in result.error["error"]


def _write_config(home: Path, text: str, mode: int = 0o600) -> Path:
    path = home / "config" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_malformed_config_file_is_a_clean_error(cli, isolated_env):
    _write_config(isolated_env, "{not json")
    result = cli("models", "--json")
    assert result.exit_code == 10
    err = result.error
    assert err["error"].startswith("Malformed config file")
    assert "line 1" in err["details"]["reason"]
    assert "Traceback" not in result.stderr


def test_unreadable_config_file_is_a_clean_error(cli, isolated_env):
    path = isolated_env / "config" / "config.json"
    path.mkdir(parents=True)  # a directory where the file should be: unreadable as a file
    result = cli("models", "--json")
    assert result.exit_code == 10
    assert result.error["error"].startswith("Cannot read config file")


def test_world_readable_config_is_warned_about(cli, isolated_env):
    _write_config(isolated_env, '{"output_format": "json"}', mode=0o644)
    result = cli("version")
    assert result.exit_code == 0
    assert result.stderr == ""  # JSON mode: the warning is in the document
    (warning,) = result.json["warnings"]
    assert "readable by other users" in warning and "chmod 600" in warning


def test_output_format_from_config(cli, isolated_env):
    _write_config(isolated_env, '{"output_format": "pretty"}')
    result = cli("version")
    assert result.stdout.startswith("genmedia ") and not result.stdout.startswith("{")


def test_internal_errors_have_no_traceback_unless_debug():
    from genmedia import hookimpl

    class Boom:
        @hookimpl
        def genmedia_register_commands(self, cli):

            @cli.command("boom")
            def boom():
                raise RuntimeError("kaput")

    result = invoke(["boom"], plugins=[Boom()])
    assert result.exit_code == 1
    assert result.error["error"] == "Internal error: RuntimeError: kaput"
    assert "Traceback" not in result.stderr
    debug = invoke(["--debug", "boom"], plugins=[Boom()])
    assert "Traceback" in debug.stderr
    assert debug.error["error"] == "Internal error: RuntimeError: kaput"


def test_config_file_written_0600_atomically(tmp_path):
    from genmedia.config import read_config_file, write_config_file

    path = tmp_path / "cfg" / "config.json"
    write_config_file(path, {"api_key": "secret-key-value-123"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_config_file(path)[0]["api_key"] == "secret-key-value-123"
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp file left


def test_config_written_0600_even_with_permissive_umask(tmp_path):
    from genmedia.config import write_config_file

    old = os.umask(0)
    try:
        path = tmp_path / "config.json"
        write_config_file(path, {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_sandbox_flag_applies_to_model_help_json(cli, monkeypatch):
    # no fal hosts configured: without --sandbox this would try the real fal.ai
    result = cli("--sandbox", "run", "fal-ai/flux/schnell", "--help", "--json")
    assert result.exit_code == 0, result
    info = json.loads(result.stdout)
    assert info["endpoint_id"] == "fal-ai/flux/schnell"
    assert any(o["flag"] == "--prompt" and o["required"] for o in info["options"])


def test_field_missing_after_a_run_names_the_request(cli, fal_sandbox_env):
    result = cli("--field", "result.nope", "run", "fal-ai/flux/schnell", "--prompt", "x")
    assert result.exit_code == 2
    err = result.error
    assert err["details"]["request_id"]
    assert "history show" in err["details"]["hint"]


def test_debug_keeps_the_output_when_a_sink_fails():
    from genmedia import hookimpl

    class Broken:
        @hookimpl
        def genmedia_handle_result(self, result):
            raise RuntimeError("sink exploded")

    import sys

    from tests.core.sitepkgs import EXAMPLE_SRC

    sys.path.insert(0, str(EXAMPLE_SRC))
    try:
        import genmedia_example.plugin as example

        result = invoke(
            ["--debug", "run", "example/echo", "--prompt", "hi"],
            plugins=[example, Broken()],
            builtins=False,
        )
    finally:
        sys.path.remove(str(EXAMPLE_SRC))
    assert result.exit_code == 1
    assert result.json["result"]["echo"] == {"prompt": "hi"}
    assert result.stderr == ""  # JSON mode: the traceback is in the sink's entry
    (failure,) = result.json["sink_errors"]
    assert "Traceback" in failure["traceback"] and "sink exploded" in failure["traceback"]


def test_genmedias_own_commands_name_no_provider_in_their_help():
    """The provider-agnostic commands (the ``commands`` built-in alone, no fal plugin) say
    "the configured default provider", never a provider's name; endpoint ids given as
    examples (``fal-ai/flux/dev``) are no claim about defaults."""
    tree = json.loads(invoke(["--help", "--json"], builtins=False).stdout)
    texts: list[tuple[str, str]] = []

    def walk(node: dict, path: list[str]) -> None:
        texts.extend((" ".join(path), p["help"]) for p in node.get("params", []) if p.get("help"))
        texts.append((" ".join(path), node.get("help") or ""))
        for name, sub in (node.get("commands") or {}).items():
            walk(sub, [*path, name])

    walk(tree, [])
    assert {"upload", "models", "run", "status"} <= set(tree["commands"])
    named = [(where, text) for where, text in texts if re.search(r"\bfal\b(?![-/])", text, re.I)]
    assert named == []
    upload = {p["name"]: p for p in tree["commands"]["upload"]["params"]}
    assert "default_provider" in upload["provider"]["help"]
