"""Narrow checks of the card model: media kinds and the reproducing command."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from genmedia.records import RunFile, RunRecord
from genmedia_gallery.cards import command_for, link_to, make_cards, media_kind


@pytest.mark.parametrize(
    ("ctype", "name", "path", "kind"),
    [
        ("image/png", "x", "images[0]", "image"),
        (None, "https://cdn/x.MP4?sig=1", "result", "video"),
        (None, "speech.mp3", "x", "audio"),
        ("model/gltf-binary", "mesh", "model_mesh", "3d"),
        (None, "blob", "model_mesh", "3d"),
        ("application/octet-stream", "blob", "video", "video"),
        (None, "notes.txt", "result", "file"),
    ],
)
def test_media_kind(ctype, name, path, kind):
    assert media_kind(ctype, name, path) == kind


def record(**kw):
    base = dict(
        provider="fal", endpoint_id="a/b", request_id="r", status="completed", submitted_at=1.0
    )
    return RunRecord(**{**base, **kw})


def test_command_flags_types_and_seed():
    rec = record(
        input={"prompt": "@here it's", "n": 2, "ok": False, "size": {"width": 5}, "none": None},
        result={"seed": 9},
    )
    argv = shlex.split(command_for(rec, 9))
    assert argv == [
        "genmedia", "run", "a/b", "--prompt", "@@here it's", "--n", "2", "--ok", "false",
        "--size", '{"width":5}', "--none", "null", "--seed", "9",
    ]  # fmt: skip
    # a leading @ is doubled: run reads @path as a file, @@ as a literal @


def test_command_with_a_dash_value_pipes_json():
    rec = record(input={"prompt": "-"}, marks={"sandbox": True}, invocation="genmedia --sandbox")
    command = command_for(rec, None)
    assert command.endswith("| genmedia --sandbox run a/b --input -")
    payload = shlex.split(command.split("|")[0])[2]
    assert json.loads(payload) == {"prompt": "-"}


def test_links_are_relative_and_quoted(tmp_path):
    target = tmp_path / "out dir" / "a#b.png"
    assert link_to(target, tmp_path / "gallery") == "../out%20dir/a%23b.png"


def test_runs_of_one_prompt_across_models_are_grouped(tmp_path: Path):
    png = tmp_path / "x.png"
    png.write_bytes(b"x")
    runs = [
        record(request_id="1", prompt="A  cat", endpoint_id="m/one", result={"seed": 1}),
        record(request_id="2", prompt="a cat", endpoint_id="m/two", result={"seed": 1}),
        record(request_id="3", prompt="a dog", endpoint_id="m/one"),
        record(
            request_id="4",
            prompt="a dog",
            endpoint_id="m/one",
            result={"image": {"url": "https://cdn/x.png"}},
            files=[RunFile(path=str(png), url="https://cdn/x.png", json_path="image")],
        ),
    ]
    cards = {c.request_id: c for c in make_cards(runs, tmp_path)}
    assert cards["1"].group == cards["2"].group is not None
    assert cards["3"].group is None and cards["4"].group is None  # same model, no seeds
    assert cards["4"].media[0].local and cards["4"].media[0].href == "x.png"
