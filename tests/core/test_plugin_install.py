"""``genmedia plugins install|uninstall`` really runs pip in the interpreter that runs
genmedia. The test gives that interpreter a throwaway virtual environment: it sees the
test environment's packages (genmedia, pip, hatchling) through a ``.pth`` file but
installs into its own site-packages, so the shared environment is never touched.
Offline: no index, no build isolation (the example plugin builds with hatchling)."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "genmedia-example"


@pytest.fixture
def throwaway_python(tmp_path: Path) -> Path:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    parents = [p for p in {*site.getsitepackages(), sysconfig.get_paths()["purelib"]} if p]
    lines = [f"import site; site.addsitedir({p!r})" for p in parents]
    Path(purelib, "zz_parent_env.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return python


def _genmedia(python: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        GENMEDIA_HOME=str(home),
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip's inverted spelling of --no-build-isolation
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return subprocess.run(
        [str(python), "-m", "genmedia", *args, "--json"],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip


def _dist_in_parent(name: str) -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_install_then_uninstall_the_example_plugin(throwaway_python, tmp_path):
    home = tmp_path / "home"
    before = json.loads(_genmedia(throwaway_python, "plugins", home=home).stdout)
    assert "example" not in {p["name"] for p in before}

    installed = _genmedia(throwaway_python, "plugins", "install", str(EXAMPLE), home=home)
    assert installed.returncode == 0, installed.stderr
    assert installed.stderr == ""  # JSON mode: pip's chatter is captured, stderr stays empty
    doc = json.loads(installed.stdout)
    assert doc["action"] == "install"
    assert doc["added"] == ["example", "example-sink"]
    assert doc["plugins"]["example"] == "genmedia-example"

    listed = json.loads(_genmedia(throwaway_python, "plugins", home=home).stdout)
    rows = {p["name"]: p for p in listed}
    assert rows["example"]["distribution"] == "genmedia-example"
    assert rows["example"]["version"] == "0.3.1" and rows["example"].get("error") is None
    # the environment running the tests did not get it
    assert not _dist_in_parent("genmedia-example")

    removed = _genmedia(throwaway_python, "plugins", "uninstall", "genmedia-example", home=home)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["removed"] == ["example", "example-sink"]
    after = json.loads(_genmedia(throwaway_python, "plugins", home=home).stdout)
    assert "example" not in {p["name"] for p in after}


def test_a_failing_pip_is_a_json_error(throwaway_python, tmp_path):
    result = _genmedia(
        throwaway_python, "plugins", "install", "genmedia-no-such-plugin-xyz", home=tmp_path
    )
    assert result.returncode == 1
    assert result.stdout == ""
    error = json.loads(result.stderr)  # exactly one JSON document: the error object
    assert error["error"].startswith("pip install failed")
    assert error["details"]["packages"] == ["genmedia-no-such-plugin-xyz"]
    assert any("genmedia-no-such-plugin-xyz" in line for line in error["details"]["pip_output"])


@pytest.mark.parametrize("name", ["", "  ", "--index-url=http://127.0.0.1:9/"])
def test_an_empty_or_option_like_name_never_reaches_pip(cli, name):
    result = cli("--json", "plugins", "install", "--", name)
    assert result.exit_code == 2
    assert "Not a package name" in result.error["error"]


def test_genmedia_itself_is_not_uninstalled(cli):
    result = cli("plugins", "uninstall", "genmedia_cli", "--json")
    assert result.exit_code == 2
    assert "genmedia itself" in result.error["error"]


def test_plugins_still_lists_without_a_subcommand(cli):
    assert cli("plugins", "--json").json == cli("plugins", "list", "--json").json
    assert sys.executable  # the install target is this interpreter (see module docstring)
