"""The wheel built from the repository: installable by its own name, typed, complete.
(.ci/run also installs it in a fresh venv and runs the README's main job elsewhere.)"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    (found,) = out.glob("genmedia_cli-*.whl")
    return found


def test_wheel_is_named_genmedia_cli_and_says_what_it_needs(wheel):
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(meta_name).decode())
        entry_points = zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert meta["Name"] == "genmedia-cli"
    assert meta["Requires-Python"] == ">=3.11"
    requires = meta.get_all("Requires-Dist")
    assert any(r.startswith("click>=8.4") for r in requires)
    assert any(r.startswith("werkzeug") and "sandbox" in r for r in requires)
    # `test` includes `sandbox`: newer hatchling inlines the self-reference, older keeps it
    assert any(
        (r.startswith("starlette") or r.startswith("genmedia-cli[sandbox]")) and "test" in r
        for r in requires
    )
    assert not any(r.startswith("genmedia[") or r.startswith("genmedia ") for r in requires)
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "genmedia = genmedia.cli:main" in entry_points


def test_wheel_ships_every_package_its_data_and_py_typed(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "genmedia/py.typed" in names
    plugins = [p.name for p in (ROOT / "plugins").iterdir() if p.name.startswith("genmedia_")]
    for package in ("genmedia", *plugins):
        assert f"{package}/__init__.py" in names
    assert "genmedia_sandbox/data/models/INDEX.json" in names
    assert not any(n.startswith(("tests/", "docs/")) for n in names)
