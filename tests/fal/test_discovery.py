"""models, schema, run --help, pricing and docs — end to end against the emulator."""

from __future__ import annotations

import json

import pytest


def test_models_search_filters_and_cursor(cli, fal_sandbox_env):
    first = cli("models", "flux", "--category", "text-to-image", "--limit", "2")
    assert first.exit_code == 0, first
    doc = first.json
    assert doc["query"] == "flux" and doc["category"] == "text-to-image"
    assert doc["status"] == "active" and doc["count"] == 2 and doc["has_more"] is True
    assert all(m["category"] == "text-to-image" for m in doc["models"])
    assert set(doc["models"][0]) >= {"endpoint_id", "name", "category", "status", "description"}
    second = cli(
        "models",
        "flux",
        "--category",
        "text-to-image",
        "--limit",
        "2",
        "--cursor",
        doc["next_cursor"],
    )
    assert second.exit_code == 0, second
    ids1 = {m["endpoint_id"] for m in doc["models"]}
    ids2 = {m["endpoint_id"] for m in second.json["models"]}
    assert ids2 and not ids1 & ids2
    sent = [r for r in fal_sandbox_env.requests if r.role == "api"]
    assert "cursor=" in sent[-1].query and "category=text-to-image" in sent[-1].query


def test_models_find_by_endpoint_ids_with_expand(cli, fal_sandbox_env):
    result = cli(
        "models",
        "--endpoint_id",
        "fal-ai/flux/dev,fal-ai/flux/schnell",
        "--endpoint_id",
        "fal-ai/flux/dev",
        "--expand",
        "openapi-3.0",
        "--status",
        "all",
    )
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["endpoint_ids"] == ["fal-ai/flux/dev", "fal-ai/flux/schnell"]
    assert "status" not in doc
    assert {m["endpoint_id"] for m in doc["models"]} == set(doc["endpoint_ids"])
    assert all(m["openapi"]["openapi"].startswith("3.") for m in doc["models"])


def test_models_unknown_id_is_an_empty_list(cli, fal_sandbox_env):
    result = cli("models", "--endpoint_id", "nobody/nothing")
    assert result.exit_code == 0, result
    assert result.json["models"] == [] and result.json["count"] == 0


def test_models_platform_error_keeps_the_envelope(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(role="api", kind="status", code=400, message="bad query")
    result = cli("models", "x")
    assert result.exit_code == 1
    assert result.error["error"] == "Model search failed: bad query"
    assert result.error["details"]["error_type"] == "validation_error"


def test_schema_compact_resolves_refs_anyof_allof(cli, fal_sandbox_env):
    result = cli("schema", "fal-ai/flux/dev")
    assert result.exit_code == 0, result
    doc = result.json
    assert (
        doc["endpoint_id"] == "fal-ai/flux/dev"
        and doc["name"]
        and doc["category"] == "text-to-image"
    )
    inputs = {f["name"]: f for f in doc["input"]}
    assert inputs["prompt"]["required"] is True and inputs["prompt"]["type"] == "string"
    assert inputs["seed"]["type"] == "integer" and inputs["seed"]["nullable"] is True
    assert inputs["image_size"]["type"] == "object|string"
    assert inputs["num_images"]["maximum"] == 4 and inputs["num_images"]["default"] == 1
    assert inputs["output_format"]["enum"] == ["jpeg", "png"]
    outputs = {f["name"]: f for f in doc["output"]}
    assert outputs["images"]["type"] == "array<object>"
    allof = cli("schema", "fal-ai/birefnet/v2").json
    assert {f["name"]: f["type"] for f in allof["output"]}["image"] == "object"


def test_schema_openapi_format_prints_the_document(cli, fal_sandbox_env):
    result = cli("schema", "fal:fal-ai/flux/schnell", "--format", "openapi")
    assert result.exit_code == 0, result
    assert result.json["info"]["x-fal-metadata"]["endpointId"] == "fal-ai/flux/schnell"


def test_schema_unknown_model(cli, fal_sandbox_env):
    result = cli("schema", "nobody/nothing")
    assert result.exit_code == 4
    assert result.error["error"] == "Model not found: nobody/nothing"


def test_invalid_app_id_is_a_usage_error(cli, fal_sandbox_env):
    result = cli("run", "fal:flux", "--prompt", "x")
    assert result.exit_code == 2
    assert not fal_sandbox_env.jobs
    assert "Must be in the format <appOwner>/<appId>" in result.error["error"]
    # a bare word is a prompt (routing), so with --prompt too it was meant as an endpoint
    result = cli("run", "flux", "--prompt", "x")
    assert result.exit_code == 2
    assert not fal_sandbox_env.jobs
    assert "'flux' is not an endpoint id" in result.error["details"]["hint"]
    assert 'genmedia models "flux"' in result.error["details"]["hint"]


def test_run_help_json_renders_model_inputs(cli, fal_sandbox_env):
    result = cli("run", "fal-ai/flux/dev", "--help", "--json")
    assert result.exit_code == 0, result
    doc = json.loads(result.stdout)
    assert doc["endpoint_id"] == "fal-ai/flux/dev"
    flags = [o["flag"] for o in doc["options"]]
    assert flags[0] == "--prompt"  # required first
    rest = flags[1:]
    assert rest == sorted(rest)
    fmt = next(o for o in doc["options"] if o["flag"] == "--output_format")
    assert fmt["type"] == "enum" and fmt["enum"] == ["jpeg", "png"] and fmt["default"] == "jpeg"
    assert (
        next(o for o in doc["options"] if o["flag"] == "--enable_safety_checker")["default"] is True
    )


def test_pricing_and_estimate(cli, fal_sandbox_env):
    result = cli("pricing", "fal-ai/flux/dev,fal-ai/flux/schnell")
    assert result.exit_code == 0, result
    doc = result.json
    assert {p["endpoint_id"] for p in doc["prices"]} == {"fal-ai/flux/dev", "fal-ai/flux/schnell"}
    assert set(doc) >= {"prices", "next_cursor", "has_more"}
    price = next(p["unit_price"] for p in doc["prices"] if p["endpoint_id"] == "fal-ai/flux/dev")
    est = cli("pricing", "fal-ai/flux/dev", "--estimate", "3").json["estimate"]
    assert est["estimate_type"] == "historical_api_price"
    assert est["total_cost"] == pytest.approx(3 * price)
    units = cli("pricing", "fal-ai/flux/dev", "--units", "2").json["estimate"]
    assert units["estimate_type"] == "unit_price" and units["total_cost"] == pytest.approx(
        2 * price
    )


def test_pricing_unknown_endpoint_and_missing_key(cli, fal_sandbox_env, monkeypatch):
    result = cli("pricing", "nobody/nothing")
    assert result.exit_code == 4
    monkeypatch.delenv("FAL_KEY")
    result = cli("pricing", "fal-ai/flux/dev")
    assert result.exit_code == 3
    assert result.error["error"].startswith("No fal.ai API key found")


def test_docs_search(cli, fal_sandbox_env):
    result = cli("docs", "webhook", "callbacks")
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["query"] == "webhook callbacks"
    assert doc["count"] == len(doc["results"]) >= 1
    assert {"title", "url", "content"} <= set(doc["results"][0])
    docs_calls = [r for r in fal_sandbox_env.requests if r.role == "docs"]
    assert docs_calls and not docs_calls[-1].has_authorization
