"""The agent contract end to end: one JSON document on stderr, errors that say what to do
next, the seed's error object, task discovery, setup parity and small first-run things."""

from __future__ import annotations

import json

import pytest

from genmedia.cli import make_cli

SCHNELL = "fal-ai/flux/schnell"
DEV = "fal-ai/flux/dev"
PRETTY = {"GENMEDIA_OUTPUT": "pretty", "COLUMNS": "200"}


# --------------------------------------------------------------------------- stderr


def test_errors_after_submit_carry_request_id_and_next(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    result = cli("run", SCHNELL, "--prompt", "x", "--timeout", "0.3")
    assert result.exit_code == 8, result
    err = json.loads(result.stderr)  # the whole of stderr is one document
    (job,) = fal_sandbox_env.jobs
    assert err["details"]["request_id"] == job.request_id
    assert err["details"]["next"] == f"genmedia status {SCHNELL} {job.request_id} --wait"


def test_a_failed_job_points_at_its_logs(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue", path=f"/{SCHNELL}", kind="model_error", message="CUDA out of memory", count=1
    )
    result = cli("run", SCHNELL, "--prompt", "x", "--events")
    assert result.exit_code == 7, result
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    (job,) = fal_sandbox_env.jobs
    assert lines[0]["event"] == "submitted" and lines[0]["request_id"] == job.request_id
    err = lines[-1]
    assert set(err) == {"error", "details"}
    assert err["details"]["next"] == f"genmedia status {SCHNELL} {job.request_id} --logs"


def test_events_stream_download_progress(cli, fal_sandbox_env, tmp_path):
    result = cli("run", SCHNELL, "--prompt", "x", "--download", f"{tmp_path}/", "--events")
    assert result.exit_code == 0, result
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    progress = [e for e in lines if e["event"] == "progress"]
    assert progress and progress[-1]["done"] == progress[-1]["total"]
    assert result.json["downloaded_files"]


def test_status_errors_name_the_job(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    rid = cli("run", SCHNELL, "--prompt", "x", "--async").json["request_id"]
    result = cli("status", SCHNELL, rid, "--result")
    assert result.exit_code != 0
    assert result.error["details"]["request_id"] == rid
    assert result.error["details"]["next"].startswith(f"genmedia status {SCHNELL} {rid}")


def test_sandbox_jobs_resume_in_the_sandbox(cli):
    from genmedia_sandbox.plugin import in_process_server

    server = in_process_server()
    server.set_timing(SCHNELL, run_s=30)
    try:
        result = cli("run", SCHNELL, "--prompt", "x", "--async", "--sandbox")
        rid = result.json["request_id"]
        status = cli("status", SCHNELL, rid, "--result", "--sandbox")
    finally:
        server.reset()  # the in-process emulator is shared by the whole test session
    assert status.exit_code == 1  # still running
    assert status.error["details"]["next"].startswith("genmedia --sandbox status ")


def test_retry_warnings_go_into_the_document(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue",
        path=f"/{SCHNELL}",
        method="POST",
        kind="status",
        code=429,
        retry_after=0,
        count=1,
    )
    result = cli("run", SCHNELL, "--prompt", "x", "--debug")  # retries are told with --debug
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert any("retry" in w for w in result.json["warnings"])


# --------------------------------------------------------------------------- next steps


def test_misspelled_model_input_suggests_the_field(cli, fal_sandbox_env):
    result = cli("run", SCHNELL, "--promt", "a cat")
    assert result.exit_code == 2
    assert result.error["error"] == "Unknown input --promt: did you mean --prompt?"
    assert result.error["details"]["did_you_mean"][0] == "--prompt"
    assert "hint" in result.error["details"]
    assert not fal_sandbox_env.jobs


def test_misspelled_run_option_suggests_the_option(cli, fal_sandbox_env):
    result = cli("run", SCHNELL, "--prompt", "a cat", "--downlod", "out/")
    assert result.exit_code == 2
    assert "did you mean --download?" in result.error["error"]
    assert not fal_sandbox_env.jobs


def test_unknown_endpoint_lists_the_closest_ids(cli, fal_sandbox_env):
    result = cli("schema", "fal-ai/flux/schnel")
    assert result.exit_code == 4
    details = result.error["details"]
    assert details["suggestions"][0] == SCHNELL
    assert details["status"] == 404 and details["error_type"] == "not_found"
    assert "hint" in details


def test_no_key_error_names_every_way_out(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.delenv("FAL_KEY")
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 3
    text = result.error["error"] + result.error["details"]["hint"]
    for needle in ("genmedia setup", "FAL_KEY", "--sandbox"):
        assert needle in text


def test_validation_errors_read_as_a_list_on_a_terminal(cli, fal_sandbox_env):
    result = cli("run", DEV, "--num_images", "20", "--output_format", "gif", env=PRETTY)
    assert result.exit_code == 5
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: Validation error")
    assert any(line.strip().startswith("• prompt: Field required") for line in lines)
    assert any("• output_format:" in line and "(got gif)" in line for line in lines)
    assert "[{" not in result.stderr  # no JSON list


def test_local_422_has_the_seed_shape(cli, fal_sandbox_env):
    result = cli("run", DEV, "--prompt", "x", "--num_images", "20")
    assert result.exit_code == 5
    details = result.error["details"]
    assert details["status"] == 422 and details["error_type"] == "ValidationError"
    (issue,) = details["validation_errors"]
    (item,) = details["body"]["detail"]
    assert item["loc"] == ["body", "num_images"]
    assert item["msg"] == issue["message"] and item["type"] == issue["type"]
    assert item["input"] == 20


# --------------------------------------------------------------------------- discovery


def test_task_query_infers_a_category_and_finds_models(cli, fal_sandbox_env):
    doc = cli("models", "generate a video of a dog running").json
    assert doc["inferred_category"] == "text-to-video"
    assert doc["count"] > 0
    assert all(m["category"] == "text-to-video" for m in doc["models"])


def test_image_to_video_query_picks_the_image_to_x_category(cli, fal_sandbox_env):
    doc = cli("models", "turn an image to video").json
    assert doc["inferred_category"] == "image-to-video"
    assert doc["models"] and all(m["category"] == "image-to-video" for m in doc["models"])


def test_no_classify_searches_every_category(cli, fal_sandbox_env):
    doc = cli("models", "video", "--no-classify").json
    assert "inferred_category" not in doc
    assert {m["category"] for m in doc["models"]} > {"text-to-video"}


def test_a_model_name_is_not_classified(cli, fal_sandbox_env):
    doc = cli("models", "flux").json
    assert "inferred_category" not in doc and doc["count"] > 1


@pytest.mark.parametrize(
    ("query", "category"),
    [
        ("a 3d model of a chair from an image", "image-to-3d"),
        ("read this text aloud with a voice", "text-to-speech"),
        ("make a song about summer", "text-to-audio"),
        ("upscale my photo", "image-to-image"),
        ("a cat sitting on a sofa", "text-to-image"),
    ],
)
def test_category_rules(query, category):
    from genmedia_routing.category import infer_category

    assert infer_category(query) == category


def test_emulator_ranks_by_relevance():
    from genmedia_sandbox.catalog import Catalog

    catalog = Catalog()
    found = [m.endpoint_id for m in catalog.search("generate a video of a dog running")]
    assert found and "video" in found[0]
    assert catalog.search("flux schnell")[0].endpoint_id == SCHNELL


# --------------------------------------------------------------------------- setup


def config(home):
    return json.loads((home / "config" / "config.json").read_text())


def test_setup_short_flag_standard_format_and_clearing_the_key(cli, isolated_env):
    saved = cli("setup", "-y", "--api-key", "k1:secret", "--output-format", "standard")
    assert saved.exit_code == 0, saved
    assert config(isolated_env) == {"api_key": "k1:secret", "output_format": "pretty"}
    cleared = cli("setup", "-y", "--api-key", "")
    assert cleared.exit_code == 0, cleared
    assert config(isolated_env) == {"output_format": "pretty"}


def test_setup_no_save_key_keeps_the_key_out_of_the_file(cli, isolated_env):
    result = cli("setup", "--no-save-key", "--output-format", "json", input="n\n")
    assert result.exit_code == 0, result
    assert config(isolated_env) == {"output_format": "json", "auto_load_env": False}
    assert "API key" not in result.stderr  # never asked for


# --------------------------------------------------------------------------- first run


def test_bare_genmedia_prints_help_and_exits_0(cli):
    result = cli(env=PRETTY)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: genmedia")


def test_usage_errors_say_usage_once(cli):
    result = cli("run", env=PRETTY)
    assert result.exit_code == 2
    assert "Usage: Usage" not in result.stderr and "usage: Usage" not in result.stderr
    assert "usage: genmedia run" in result.stderr


def test_help_footer_points_at_commands_not_at_a_repo_path(cli):
    text = cli("--help", env=PRETTY).stdout
    assert "docs/index.md" not in text
    assert "--help --json" in text and "genmedia COMMAND --help" in text


def test_delete_without_a_terminal_needs_yes_and_says_so(cli, fal_sandbox_env):
    result = cli("assets", "tags", "delete", "tag-1")
    assert result.exit_code == 2
    assert "--yes" in result.error["details"]["hint"]


def test_root_group_is_fresh_per_invocation():
    assert make_cli() is not make_cli()
