"""Pretty tables on a terminal, light imports, and the models' wire rules."""

from __future__ import annotations

import subprocess
import sys

import pytest

PRETTY = {"GENMEDIA_OUTPUT": "pretty", "COLUMNS": "200"}


def test_pretty_tables(lib):
    asset = lib.asset("a cat in the rain")
    tag = lib.tag("rainy")
    lib.ok("assets", "tags", "assign", tag["id"], "--vector_id", asset["vector_id"])
    lib.collection("Rainy days")

    browse = lib.cli("assets", "browse", env=PRETTY)
    assert browse.exit_code == 0
    assert asset["vector_id"] in browse.stdout and "a cat in the rain" in browse.stdout
    assert "rainy" in browse.stdout and "1 shown of 1" in browse.stdout
    assert not browse.stdout.lstrip().startswith("{")

    tags = lib.cli("assets", "tags", "list", env=PRETTY)
    assert "rainy" in tags.stdout and tag["id"] in tags.stdout

    colls = lib.cli("assets", "collections", "list", env=PRETTY)
    assert "Rainy days" in colls.stdout

    got = lib.cli("assets", "get", asset["vector_id"], env=PRETTY)
    assert "is_favorited" in got.stdout and asset["url"] in got.stdout

    deleted = lib.cli("assets", "tags", "delete", tag["id"], "--yes", env=PRETTY)
    assert f"Deleted tag {tag['id']}" in deleted.stdout


def test_pretty_characters(lib):
    request_id = lib.completed_request()
    lib.ok("assets", "characters", "create", "Whiskers", "--description", "a cat",
           "--reference_image", request_id, "--identifier", "whiskers")  # fmt: skip
    out = lib.cli("assets", "characters", "list", env=PRETTY)
    assert "Whiskers" in out.stdout and "@whiskers" in out.stdout


@pytest.mark.timeout(60)
def test_command_modules_import_no_heavy_library():
    code = (
        "import sys, genmedia_fal.plugin, genmedia_fal.assets.commands;"
        "print(sorted(m for m in ('httpx', 'cattrs', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_keys_survive_and_numbers_keep_their_type():
    from genmedia.serialization import unstructure
    from genmedia_fal.assets.models import AssetEnvelope, structure

    wire = {
        "asset": {
            "vector_id": "v", "type": "image", "width": 1024, "height": 512.5, "tags": [],
            "similarity": None, "lineage_hint": {"depth": 2},
        },
        "future": True,
    }  # fmt: skip
    obj = structure(wire, AssetEnvelope)
    assert obj.asset.width == 1024 and isinstance(obj.asset.width, int)
    assert unstructure(obj) == wire


def test_malformed_response_is_a_remote_error():
    from genmedia import errors
    from genmedia_fal.assets.client import structure_response
    from genmedia_fal.assets.models import TagList

    with pytest.raises(errors.RemoteError, match=r"Tag\.name: expected a string"):
        structure_response({"tags": [{"id": "t", "name": 5}]}, TagList, "GET", "/tags")
