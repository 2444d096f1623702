"""OpenAPI → compact schema, on fal's real model documents (../shared/fal/models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genmedia.types import MISSING
from genmedia_fal.openapi import deref, find_io_schemas, ref_name
from genmedia_fal.schema import model_schema

DATA = Path(__file__).resolve().parents[2] / "plugins" / "genmedia_sandbox" / "data" / "models"
INDEX = json.loads((DATA / "INDEX.json").read_text())


def load(endpoint_id: str) -> dict:
    return json.loads((DATA / (endpoint_id.replace("/", "__") + ".json")).read_text())


def fields(endpoint_id: str) -> dict:
    schema = model_schema(endpoint_id, load(endpoint_id))
    return {f.name: f for f in schema.input}


@pytest.mark.parametrize("entry", INDEX, ids=[e["endpoint_id"] for e in INDEX])
def test_every_model_finds_its_input_and_output(entry):
    doc = load(entry["endpoint_id"])
    found_in, found_out = find_io_schemas(doc, entry["endpoint_id"])
    assert ref_name(found_in["$ref"]) == entry["input_schema_name"]
    assert ref_name(found_out["$ref"]) == entry["output_schema_name"]
    schema = model_schema(entry["endpoint_id"], doc)
    assert sorted(f.name for f in schema.input if f.required) == sorted(entry["required_inputs"])
    files = sorted(f.name for f in schema.input if f.is_file or f.items_is_file)
    assert files == sorted(entry["file_like_inputs"])
    assert schema.output, "output fields"
    assert all(f.type != "unknown" for f in schema.input if f.name != "timestamps")


def test_paths_beat_upstreams_name_rule():
    # LDMVoiceInput comes after PlayaiTtsDialogInput; upstream's rule would pick it.
    doc = load("fal-ai/playai/tts/dialog")
    schema = model_schema("fal-ai/playai/tts/dialog", doc)
    assert [f.name for f in schema.input][:2] == ["response_format", "input"]
    assert schema.field("input").required


def test_name_rule_is_the_fallback_without_paths():
    doc = load("fal-ai/flux/dev")
    doc.pop("paths")
    found_in, found_out = find_io_schemas(doc, "fal-ai/flux/dev")
    assert found_in is doc["components"]["schemas"]["FluxDevInput"]
    assert found_out is doc["components"]["schemas"]["FluxDevOutput"]


def test_nullable_anyof_gives_the_real_type():
    f = fields("fal-ai/flux/dev")
    seed = f["seed"]
    assert (seed.type, seed.nullable, seed.required) == ("integer", True, False)
    assert f["num_images"].minimum == 1 and f["num_images"].maximum == 4
    assert f["num_images"].default == 1
    assert f["output_format"].enum == ["jpeg", "png"]
    assert f["prompt"].default is MISSING


def test_ref_and_enum_union():
    f = fields("fal-ai/flux/dev")
    size = f["image_size"]
    assert size.type == "object|string"
    assert size.default == "landscape_4_3"
    # the $ref branch is resolved in the kept schema
    obj = next(b for b in size.schema["anyOf"] if b.get("type") == "object")
    assert set(obj["properties"]) == {"width", "height"}


def test_allof_is_merged():
    schema = model_schema("fal-ai/birefnet/v2", load("fal-ai/birefnet/v2"))
    image = next(f for f in schema.output if f.name == "image")
    assert image.type == "object"
    assert image.description == "Image with background removed"
    assert "url" in image.schema["properties"]


def test_nullable_enum_and_nested_ref_arrays():
    f = fields("fal-ai/ideogram/v3")
    assert f["style"].enum == ["AUTO", "GENERAL", "REALISTIC", "DESIGN"] and f["style"].nullable
    assert f["image_urls"].type == "array<string>" and f["image_urls"].items_is_file
    palette = f["color_palette"]
    assert palette.type == "object" and palette.nullable
    resolved = palette.schema["anyOf"][0]
    members = resolved["properties"]["members"]["anyOf"][0]
    assert members["items"]["properties"]["rgb"]["properties"]["r"]["maximum"] == 255


def test_mixed_enum_and_const_union():
    f = fields("sonauto/v2/text-to-music")
    assert f["bpm"].type == "integer|string"
    assert f["output_bit_rate"].enum == [128, 192, 256, 320]
    f = fields("fal-ai/kling-video/v2.5-turbo/pro/text-to-video")
    assert all(isinstance(v, str) for v in f["duration"].enum)


def test_fal_ui_hint_marks_arrays_of_files():
    f = fields("bytedance/seedance-2.0/reference-to-video")
    assert f["video_urls"].items_is_file and f["audio_urls"].items_is_file


def test_recursive_refs_terminate():
    doc = {
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {"child": {"$ref": "#/components/schemas/Node"}},
                }
            }
        }
    }
    out = deref(doc, {"$ref": "#/components/schemas/Node"})
    assert out["properties"]["child"]["title"] == "Node"
