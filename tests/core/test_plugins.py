"""The plugin manager: built-ins, entry points, blocking, broken plugins, `genmedia plugins`."""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from genmedia.plugins import BUILTIN_PLUGINS, make_plugin_manager
from tests.core.sitepkgs import install_example, install_module


@pytest.fixture
def site(tmp_path, monkeypatch):
    path = tmp_path / "site-packages"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    importlib.invalidate_caches()
    yield path
    for name in list(sys.modules):
        if name.startswith(("genmedia_example", "gm_broken", "gm_marker", "gm_unknown")):
            del sys.modules[name]


@pytest.fixture
def cli(cli_entry_points):
    """These tests are about loading entry points: the ``cli`` here loads them."""
    return cli_entry_points


def test_builtins_registered_first_in_tuple_order():
    pm = make_plugin_manager(autoload=False)
    names = [n for n, _ in pm.list_name_plugin()]
    builtin_order = [n for n in names if n in dict(BUILTIN_PLUGINS)]
    assert builtin_order == [n for n, _ in BUILTIN_PLUGINS if n in builtin_order]
    assert names.index("core") < names.index("inputs")


def test_factory_builds_independent_managers():
    a = make_plugin_manager(autoload=False)
    b = make_plugin_manager(autoload=False)
    assert a is not b
    a.unregister(name="fal")
    assert b.has_plugin("fal")


def test_entry_point_plugins_are_loaded_after_builtins(site):
    install_example(site)
    pm = make_plugin_manager()
    names = [n for n, _ in pm.list_name_plugin()]
    assert "example" in names
    assert names.index("example") > names.index("fal")
    assert pm.distributions["example"] == ("genmedia-example", "0.3.1")


def test_plugins_command_lists_third_party_with_distribution(site, cli):
    install_example(site)
    rows = {r["name"]: r for r in cli("plugins").json}
    assert rows["example"]["builtin"] is False
    assert rows["example"]["distribution"] == "genmedia-example"
    assert rows["example"]["version"] == "0.3.1"
    assert rows["example"]["hooks"] == ["genmedia_register_providers"]
    assert rows["fal"]["builtin"] is True


def test_broken_plugin_is_a_warning_and_a_row(site, cli):
    install_module(site, "gm-broken", "gm_broken", "raise ImportError('no such thing')", "broken")
    result = cli("plugins", "--events")
    assert result.exit_code == 0
    warning = json.loads(result.stderr.splitlines()[0])
    assert warning["event"] == "warning"
    assert "plugin 'broken' failed to load" in warning["message"]
    assert cli("plugins").stderr == ""  # JSON mode without --events: stderr stays empty
    rows = {r["name"]: r for r in result.json}
    assert rows["broken"]["error"] == "ImportError: no such thing"
    assert rows["broken"]["distribution"] == "gm-broken"
    # and the CLI still works for everything else
    assert cli("version").exit_code == 0


def test_plugin_with_unknown_hook_is_dropped_not_fatal(site, cli):
    install_module(
        site,
        "gm-unknown",
        "gm_unknown",
        """
        from genmedia import hookimpl

        @hookimpl
        def genmedia_no_such_hook():
            pass
        """,
        "unknown",
    )
    result = cli("plugins", env={"GENMEDIA_OUTPUT": "pretty"})
    assert result.exit_code == 0
    assert "was skipped" in result.stderr
    result = cli("plugins")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in result.json}
    assert "genmedia_no_such_hook" in rows["unknown"]["error"]


MARKER_SOURCE = """
import os, pathlib
pathlib.Path(os.environ["GM_MARKER"]).write_text("imported")
"""


def test_disable_env_blocks_before_import(site, tmp_path, cli, monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.setenv("GM_MARKER", str(marker))
    install_module(site, "gm-marker", "gm_marker", MARKER_SOURCE, "marker")
    monkeypatch.setenv("GENMEDIA_DISABLE_PLUGINS", "marker, fal")
    rows = {r["name"] for r in cli("plugins").json}
    assert "marker" not in rows and "fal" not in rows
    assert not marker.exists()


def test_disable_flag_blocks_before_import(site, tmp_path, cli, monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.setenv("GM_MARKER", str(marker))
    install_module(site, "gm-marker", "gm_marker", MARKER_SOURCE, "marker")
    result = cli("--disable-plugin", "marker", "--disable-plugin", "download", "plugins")
    rows = {r["name"] for r in result.json}
    assert "marker" not in rows and "download" not in rows
    assert not marker.exists()
    # without the flag the module is imported
    cli("plugins")
    assert marker.read_text() == "imported"


def test_no_autoload_skips_entry_points(site, tmp_path, cli, monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.setenv("GM_MARKER", str(marker))
    install_module(site, "gm-marker", "gm_marker", MARKER_SOURCE, "marker")
    monkeypatch.setenv("GENMEDIA_NO_PLUGIN_AUTOLOAD", "1")
    rows = {r["name"] for r in cli("plugins").json}
    assert "marker" not in rows
    assert "fal" in rows
    assert not marker.exists()


def test_disabled_builtin_command_disappears(cli):
    import json

    assert "setup" in json.loads(cli("--json", "--help").stdout)["commands"]
    tree = json.loads(cli("--disable-plugin", "fal", "--json", "--help").stdout)
    assert "setup" not in tree["commands"]
    assert "run" in tree["commands"]
