"""Lay out plugin packages on a directory exactly as ``pip install`` does.

A package directory plus ``<name>-<version>.dist-info`` with ``METADATA`` and
``entry_points.txt``; putting the directory on ``sys.path`` (or ``PYTHONPATH``) makes
``importlib.metadata.entry_points(group="genmedia")`` find the plugins, the same
discovery path a real installation uses.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

EXAMPLE_SRC = Path(__file__).resolve().parents[1] / "plugins" / "genmedia-example"


def write_dist(site: Path, name: str, version: str, entry_points: dict[str, str]) -> None:
    dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = ["[genmedia]", *(f"{k} = {v}" for k, v in entry_points.items()), ""]
    (dist / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    (dist / "INSTALLER").write_text("pip\n", encoding="utf-8")


def install_example(site: Path) -> None:
    """genmedia-example, from tests/plugins/genmedia-example (its pyproject's entry points)."""
    import tomllib

    project = tomllib.loads((EXAMPLE_SRC / "pyproject.toml").read_text())["project"]
    shutil.copytree(EXAMPLE_SRC / "genmedia_example", site / "genmedia_example", dirs_exist_ok=True)
    write_dist(site, project["name"], project["version"], project["entry-points"]["genmedia"])


def install_module(site: Path, dist: str, module: str, source: str, entry_name: str) -> None:
    """A one-module plugin distribution (for broken-plugin tests)."""
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    write_dist(site, dist, "1.0", {entry_name: module})
