"""``genmedia config list|get|set|unset|path``."""

from __future__ import annotations

import json
import os
import stat

import pytest

KEY = "1234abcd-5678-90ef:supersecretvalue"


def _config(home):
    return home / "config" / "config.json"


def test_path_names_the_config_file(cli, isolated_env):
    doc = cli("config", "path", "--json").json
    assert doc == {"path": str(_config(isolated_env)), "exists": False}


def test_set_get_unset_round_trip(cli, isolated_env):
    set_ = cli("config", "set", "output_format", "JSON", "--json")
    assert set_.exit_code == 0, set_
    assert set_.json["value"] == "json" and set_.json["updated"] is True
    path = _config(isolated_env)
    assert json.loads(path.read_text()) == {"output_format": "json"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    got = cli("config", "get", "output_format", "--json").json
    assert (got["value"], got["source"]) == ("json", "config")
    # the stored value is in force: no --json, stdout not a TTY, output is JSON anyway
    assert cli("config", "set", "output_format", "json", "--json").json["updated"] is False
    assert cli("config", "unset", "output_format", "--json").json == {
        "key": "output_format",
        "removed": True,
    }
    assert json.loads(path.read_text()) == {}
    assert cli("config", "get", "output_format", "--json").json["source"] == "default"


def test_nested_keys_and_other_values_are_kept(cli, isolated_env):
    path = _config(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"api_key": KEY, "plugins": {"history": {"path": "/x"}}}))
    path.chmod(0o600)
    assert cli("config", "set", "download.concurrency", "8").exit_code == 0
    assert cli("config", "set", "download.template", "out/{index}.{ext}").exit_code == 0
    assert cli("config", "set", "hosts.queue", "http://127.0.0.1:9/").exit_code == 0
    values = json.loads(path.read_text())
    assert values["api_key"] == KEY
    assert values["plugins"] == {
        "history": {"path": "/x"},
        "download": {"concurrency": 8, "template": "out/{index}.{ext}"},
    }
    assert values["hosts"] == {"queue": "http://127.0.0.1:9"}
    assert cli("config", "unset", "download.concurrency").exit_code == 0
    assert cli("config", "unset", "download.template").exit_code == 0
    assert json.loads(path.read_text())["plugins"] == {"history": {"path": "/x"}}


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("output_format", "yaml", "expected one of auto, json, pretty"),
        ("auto_load_env", "maybe", "expected true or false"),
        ("download.concurrency", "0", "expected an integer from 1 to 32"),
        ("download.concurrency", "many", "expected an integer"),
        ("download.template", "out/{nope}.{ext}", "unknown placeholder {nope}"),
        ("hosts.queue", "queue.fal.run", "expected an http:// or https:// URL"),
        ("default_provider", "a b", "expected a name"),
    ],
)
def test_invalid_values_are_refused_and_nothing_is_written(cli, isolated_env, key, value, reason):
    result = cli("config", "set", key, value, "--json")
    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert result.error["error"].startswith(f"Invalid value for {key}")
    assert reason in result.error["details"]["reason"]
    assert not _config(isolated_env).exists()


def test_unknown_keys_suggest_the_close_ones(cli):
    result = cli("config", "get", "output-format", "--json")
    assert result.exit_code == 2
    assert result.error["details"]["did_you_mean"][0] == "output_format"


def test_the_key_is_never_shown_and_cannot_be_set_here(cli, isolated_env, monkeypatch):
    path = _config(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"api_key": KEY}))
    path.chmod(0o600)
    for args in (("config", "list", "--json"), ("config", "get", "api_key", "--json"),
                 ("config", "list"), ("config", "get", "api_key")):  # fmt: skip
        result = cli(*args, env={"GENMEDIA_OUTPUT": "pretty"} if "--json" not in args else None)
        assert result.exit_code == 0, result
        assert "supersecret" not in result.stdout + result.stderr
        assert "5678" not in result.stdout + result.stderr
        assert "1234…****" in result.stdout
    refused = cli("config", "set", "api_key", KEY, "--json")
    assert refused.exit_code == 2
    assert "supersecret" not in refused.stdout + refused.stderr
    assert json.loads(path.read_text()) == {"api_key": KEY}
    assert cli("config", "unset", "api_key", "--json").json["removed"] is True
    assert json.loads(path.read_text()) == {}


def test_list_shows_where_each_value_comes_from(cli, monkeypatch):
    monkeypatch.setenv("GENMEDIA_OUTPUT", "json")
    cli("config", "set", "auto_load_env", "yes")
    rows = {r["key"]: r for r in cli("config", "list").json["values"]}
    assert rows["output_format"]["source"] == "env:GENMEDIA_OUTPUT"
    assert (rows["auto_load_env"]["value"], rows["auto_load_env"]["source"]) == (True, "config")
    assert (rows["download.concurrency"]["value"], rows["download.concurrency"]["source"]) == (
        4,
        "default",
    )


def test_pretty_list_is_a_table(cli):
    result = cli("config", "list", env={"GENMEDIA_OUTPUT": "pretty", "COLUMNS": "120"})
    assert result.exit_code == 0
    assert "download.template" in result.stdout and "config file:" in result.stdout
    assert "True" not in result.stdout  # booleans as typed: true/false


def test_download_template_from_config_is_used_by_a_bare_download(cli, fal_sandbox_env, chdir_tmp):
    assert cli("config", "set", "download.template", "saved/{index}.{ext}").exit_code == 0
    assert cli("config", "set", "download.concurrency", "2").exit_code == 0
    result = cli("run", "fal-ai/flux/schnell", "--prompt", "x", "--num_images", "2",
                 "--download", "--json")  # fmt: skip
    assert result.exit_code == 0, result
    paths = sorted(os.path.relpath(f["path"]) for f in result.json["downloaded_files"])
    assert paths == ["saved/0.jpg", "saved/1.jpg"] or all(p.startswith("saved/") for p in paths)
    assert (chdir_tmp / "saved").is_dir()


def test_hook_genmedia_config_keys(isolated_env):
    """A plugin's key is listed, validated by its parser, stored where it says."""
    from genmedia import hookimpl
    from genmedia.configkeys import ConfigKey, int_range
    from genmedia.testing import invoke

    class Notify:
        @hookimpl
        def genmedia_config_keys(self):
            return [
                ConfigKey(
                    "notify.volume",
                    ("plugins", "notify", "volume"),
                    int_range(0, 10),
                    5,
                    "how loud the bell rings",
                )
            ]

    listed = invoke(["config", "list", "--json"], plugins=[Notify()]).json["values"]
    assert {"key": "notify.volume", "value": 5, "source": "default",
            "description": "how loud the bell rings"} in listed  # fmt: skip
    bad = invoke(["config", "set", "notify.volume", "11", "--json"], plugins=[Notify()])
    assert bad.exit_code == 2 and "from 0 to 10" in bad.error["details"]["reason"]
    good = invoke(["config", "set", "notify.volume", "7", "--json"], plugins=[Notify()])
    assert good.exit_code == 0, good
    assert json.loads(_config(isolated_env).read_text()) == {"plugins": {"notify": {"volume": 7}}}
    # without the plugin the key is unknown
    assert invoke(["config", "get", "notify.volume", "--json"]).exit_code == 2
