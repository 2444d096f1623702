"""genmedia-s3 is a third-party plugin: its own distribution, found through the
``genmedia`` entry-point group, using only the core's public surface."""

from __future__ import annotations

import ast
import json
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "genmedia-s3"


def test_installed_plugin_is_listed_with_its_distribution(run_genmedia, moto_s3):
    r = run_genmedia("plugins", "--json")
    assert r.returncode == 0, r.stderr
    [row] = [p for p in json.loads(r.stdout) if p["name"] == "s3"]
    assert row["builtin"] is False and row["distribution"] == "genmedia-s3"
    assert set(row["hooks"]) == {
        "genmedia_add_options",
        "genmedia_prepare_request",
        "genmedia_handle_result",
    }


def test_run_through_the_entry_point_in_a_subprocess(run_genmedia, fal_sandbox_env, s3, tmp_path):
    r = run_genmedia(
        "run", "fal-ai/flux/schnell", "--prompt", "subprocess",
        "--save-to", f"s3://{s3.bucket}/sub/{{index}}.{{ext}}", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    [saved] = json.loads(r.stdout)["saved_files"]
    assert s3.keys() == ["sub/0.jpg"] and saved["path"] == f"s3://{s3.bucket}/sub/0.jpg"


def test_not_in_the_core_wheel_and_only_public_imports():
    import tomllib

    core = tomllib.loads((PLUGIN.parents[1] / "pyproject.toml").read_text())
    packages = core["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert not any("s3" in p for p in packages)
    own = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    assert own["project"]["entry-points"]["genmedia"] == {"s3": "genmedia_s3.plugin"}
    public = {
        "genmedia", "genmedia.types", "genmedia.errors", "genmedia.http", "genmedia.context",
        "genmedia.serialization", "genmedia.provider", "genmedia.media",
    }  # fmt: skip
    for source in (PLUGIN / "genmedia_s3").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("genmedia_") or name.startswith("genmedia_s3"), (
                    f"{source.name} imports another plugin: {name}"
                )
                if name.startswith("genmedia.") or name == "genmedia":
                    assert name in public, f"{source.name} imports {name}"
