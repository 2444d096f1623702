"""``genmedia batch`` in-process against the emulator: the NDJSON contract, the three
inputs, validation of every line before paying, re-runs that skip, the budget."""

from __future__ import annotations

import json
import sqlite3

import click
import pytest

from genmedia import hookimpl
from genmedia.testing import invoke

from .conftest import SCHNELL, ndjson, submits, write_jobs


@pytest.fixture
def jobs_file(tmp_path):
    return write_jobs(tmp_path / "jobs.jsonl", 5)


def test_ndjson_lines_then_summary(cli, fal_sandbox_env, jobs_file):
    fal_sandbox_env.add_fault(
        role="queue", method="POST", path=f"/{SCHNELL}", kind="model_error", count=1,
        message="CUDA out of memory",
    )  # fmt: skip
    res = cli("batch", str(jobs_file), "--concurrency", "2")
    assert res.exit_code == 7, res.stderr  # the failure's own code (the model job failed)
    assert res.stderr == ""
    jobs, summary = ndjson(res.stdout)
    assert sorted(j["line"] for j in jobs) == [1, 2, 3, 4, 5]
    done = [j for j in jobs if j["status"] == "completed"]
    failed = [j for j in jobs if j["status"] == "failed"]
    assert len(done) == 4 and len(failed) == 1
    for job in done:
        assert job["id"] == f"j{job['line']}" and job["request_id"]
        assert job["endpoint_id"] == SCHNELL and job["result"]["images"][0]["url"]
        assert "error" not in job
    assert "CUDA out of memory" in failed[0]["error"]["error"]
    assert failed[0]["error"]["exit_code"] == 7 and failed[0]["request_id"]
    assert summary["status"] == "failed" and summary["total"] == 5
    assert summary["counts"] == {"completed": 4, "failed": 1}
    assert summary["submitted"] == 5 and summary["duration_s"] >= 0
    assert [f["line"] for f in summary["failures"]] == [failed[0]["line"]]
    assert summary["resume"].endswith("--retry-failed")
    assert len(submits(fal_sandbox_env)) == 5
    # every job went through the one execution path: the run journal has them all
    history = cli("history", "list", "--json")
    recorded = {r["request_id"] for r in history.json["jobs"]}
    assert {j["request_id"] for j in jobs} <= recorded


def test_rerun_skips_finished_jobs_and_retry_failed(cli, fal_sandbox_env, jobs_file):
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="model_error", count=1)
    first = cli("batch", str(jobs_file))
    _, summary = ndjson(first.stdout)
    again = cli("batch", str(jobs_file))
    jobs, second = ndjson(again.stdout)
    assert jobs == [] and second["batch_id"] == summary["batch_id"]
    assert second["submitted"] == 0 and second["skipped"] == 5
    assert len(submits(fal_sandbox_env)) == 5  # nothing submitted twice
    retried = cli("batch", "resume", summary["batch_id"], "--retry-failed")
    assert retried.exit_code == 0, retried.stdout
    jobs, third = ndjson(retried.stdout)
    assert len(jobs) == 1 and third["status"] == "completed"
    assert third["counts"] == {"completed": 5}
    assert len(submits(fal_sandbox_env)) == 6


def test_summary_only(cli, fal_sandbox_env, jobs_file):
    res = cli("batch", str(jobs_file), "--summary")
    assert res.exit_code == 0
    assert res.json["status"] == "completed" and res.json["counts"] == {"completed": 5}


def test_every_line_is_validated_before_any_submit(cli, fal_sandbox_env, tmp_path):
    path = write_jobs(tmp_path / "jobs.jsonl", 4)
    lines = path.read_text().splitlines()
    lines.append(
        json.dumps({"endpoint_id": SCHNELL, "input": {"prompt": "x", "num_images": "two"}})
    )
    path.write_text("\n".join(lines) + "\n")
    res = cli("batch", str(path))
    assert res.exit_code == 5
    assert res.error["details"]["line"] == 5 and res.error["details"]["field"] == "num_images"
    assert res.error["error"].startswith("Line 5:")
    assert fal_sandbox_env.jobs == [] and submits(fal_sandbox_env) == []


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ('{"endpoint_id": "fal-ai/flux/schnell", "input": {"prompt": "a"}}\nnot json\n', 2, None),
        ('{"input": {"prompt": "a"}}\n', 1, "endpoint_id"),
        ('\n\n{"endpoint_id": "fal-ai/flux/schnell", "input": [1]}\n', 3, "input"),
        ('{"endpoint_id": "fal-ai/flux/schnell", "inputs": {}}\n', 1, "inputs"),
    ],
)
def test_malformed_lines_name_line_and_field(cli, fal_sandbox_env, tmp_path, text, line, field):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    res = cli("batch", str(path))
    assert res.exit_code == 2
    assert res.error["details"]["line"] == line
    assert res.error["details"].get("field") == field
    assert submits(fal_sandbox_env) == []


def test_duplicate_user_keys(cli, fal_sandbox_env, tmp_path):
    path = tmp_path / "dup.jsonl"
    job = {"endpoint_id": SCHNELL, "input": {"prompt": "a"}, "id": "same"}
    path.write_text(json.dumps(job) + "\n" + json.dumps(job) + "\n")
    res = cli("batch", str(path))
    assert res.exit_code == 2 and res.error["details"]["line"] == 2
    assert submits(fal_sandbox_env) == []


def test_matrix_is_the_product_of_the_flags(cli, fal_sandbox_env, tmp_path):
    (tmp_path / "prompts.txt").write_text("a red fox\n\na blue owl\n")
    res = cli(
        "batch", SCHNELL, "--prompt", f"@{tmp_path / 'prompts.txt'}", "--seed", "1..3",
        "--num_images", "1",
    )  # fmt: skip
    assert res.exit_code == 0, res.stdout + res.stderr
    jobs, summary = ndjson(res.stdout)
    assert summary["counts"] == {"completed": 6}
    inputs = sorted((j.input["prompt"], j.input["seed"]) for j in fal_sandbox_env.jobs)
    assert inputs == [(p, s) for p in ("a blue owl", "a red fox") for s in (1, 2, 3)]
    assert all(j.input["num_images"] == 1 for j in fal_sandbox_env.jobs)  # typed by the schema


def test_csv_with_endpoint_option_and_stdin_jsonl(cli, fal_sandbox_env, tmp_path):
    path = tmp_path / "jobs.csv"
    path.write_text("id,prompt,seed\nfox,a fox,7\nowl,an owl,\n")
    res = cli("batch", str(path), "--endpoint", SCHNELL)
    assert res.exit_code == 0, res.stdout + res.stderr
    jobs, _ = ndjson(res.stdout)
    assert {j["id"]: j["line"] for j in jobs} == {"fox": 2, "owl": 3}
    seeds = {j.input["prompt"]: j.input.get("seed") for j in fal_sandbox_env.jobs}
    assert seeds == {"a fox": 7, "an owl": None}
    text = json.dumps({"endpoint_id": SCHNELL, "input": {"prompt": "from stdin"}}) + "\n"
    res = cli("batch", "-", input=text)
    assert res.exit_code == 0
    assert ndjson(res.stdout)[1]["counts"] == {"completed": 1}


def test_budget_refusal_and_dry_run(cli, fal_sandbox_env, jobs_file):
    plan = cli("batch", str(jobs_file), "--dry-run", "--max-cost", "100", "--json")
    assert plan.exit_code == 0
    assert plan.json["status"] == "dry_run" and plan.json["jobs"] == 5
    assert plan.json["endpoints"] == {SCHNELL: 5} and plan.json["within_budget"] is True
    cost = plan.json["estimate"]["total_cost"]
    assert cost > 0 and plan.json["estimate"]["currency"] == "USD"
    refused = cli("batch", str(jobs_file), "--max-cost", str(cost / 2))
    assert refused.exit_code == 11 and refused.stdout == ""
    assert refused.error["details"]["estimate"]["total_cost"] == cost
    assert fal_sandbox_env.jobs == [] and submits(fal_sandbox_env) == []
    within = cli("batch", str(jobs_file), "--max-cost", str(cost))
    assert within.exit_code == 0
    assert ndjson(within.stdout)[1]["counts"] == {"completed": 5}


def test_running_estimate_stops_submitting(cli, fal_sandbox_env, jobs_file, tmp_path):
    plan = cli("batch", str(jobs_file), "--dry-run", "--max-cost", "100", "--json")
    cost = plan.json["estimate"]["total_cost"]
    ok = cli("batch", str(jobs_file), "--max-cost", str(cost), "--concurrency", "1")
    batch_id = ndjson(ok.stdout)[1]["batch_id"]
    # the same batch again, resumed with a lower budget, after its jobs were reset
    db = next(tmp_path.glob("**/batches.db"))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE jobs SET state = 'pending', request_id = NULL WHERE line > 2")
    res = cli("batch", "resume", batch_id, "--max-cost", str(cost * 3 / 5), "-c", "1")
    assert res.exit_code == 11
    jobs, summary = ndjson(res.stdout)
    assert summary["status"] == "budget" and len(jobs) == 1
    assert summary["counts"] == {"completed": 3, "pending": 2}
    assert res.error["details"]["resume"].startswith("genmedia batch resume")


def test_download_template_gains_line_and_id(cli, fal_sandbox_env, jobs_file, tmp_path):
    out = tmp_path / "out"
    res = cli("batch", str(jobs_file), "--download", f"{out}/{{id}}-{{line}}.{{ext}}")
    assert res.exit_code == 0, res.stdout
    jobs, _ = ndjson(res.stdout)
    assert sorted(p.name for p in out.iterdir()) == [f"j{i}-{i}.jpg" for i in range(1, 6)]
    assert all(j["files"] == [str(out / f"j{j['line']}-{j['line']}.jpg")] for j in jobs)


def test_list_show_cancel(cli, fal_sandbox_env, jobs_file):
    res = cli("batch", str(jobs_file))
    batch_id = ndjson(res.stdout)[1]["batch_id"]
    listed = cli("batch", "list", "--json")
    assert [b["batch_id"] for b in listed.json["batches"]] == [batch_id]
    assert listed.json["batches"][0]["counts"] == {"completed": 5}
    shown = cli("batch", "show", "last", "--json")
    assert shown.json["batch_id"] == batch_id and len(shown.json["jobs"]) == 5
    assert shown.json["jobs"][0]["key"] == "j1" and shown.json["jobs"][0]["request_id"]
    cancelled = cli("batch", "cancel", batch_id, "--json")
    assert cancelled.exit_code == 0 and cancelled.json["never_submitted"] == 0
    missing = cli("batch", "show", "b-nope", "--json")
    assert missing.exit_code == 4


def test_cancel_of_a_job_the_host_already_finished_is_not_an_error(cli, fal_sandbox_env, jobs_file):
    first = cli("batch", str(jobs_file))
    batch_id = ndjson(first.stdout)[1]["batch_id"]
    db = next(jobs_file.parent.glob("**/batches.db"))
    # as a batch stopped while line 2 was running, which the host finished meanwhile
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE jobs SET state = 'submitted' WHERE line = 2")
        rid = conn.execute("SELECT request_id FROM jobs WHERE line = 2").fetchone()[0]
    cancelled = cli("batch", "cancel", batch_id, "--json")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert cancelled.json["already_finished"] == [rid]
    assert cancelled.json["cancel_requested"] == [] and cancelled.json["cancel_errors"] is None


def test_unknown_after_a_cut_off_submit_is_not_resubmitted(cli, fal_sandbox_env, jobs_file):
    res = cli("batch", str(jobs_file), "--dry-run", "--json")
    batch_id = res.json["batch_id"]
    first = cli("batch", str(jobs_file))
    assert first.exit_code == 0
    db = next(jobs_file.parent.glob("**/batches.db"))
    # as a kill -9 between the submit and the record of its request id leaves it
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE jobs SET state = 'submitting', request_id = NULL WHERE line = 3")
    again = cli("batch", "resume", batch_id)
    jobs, summary = ndjson(again.stdout)
    assert again.exit_code == 7 and jobs == []
    assert summary["counts"] == {"completed": 4, "unknown": 1}
    assert summary["failures"][0]["line"] == 3 and "may exist" in summary["failures"][0]["error"]
    assert len(submits(fal_sandbox_env)) == 5


@pytest.mark.timeout(120)
def test_a_broken_wait_leaves_the_job_to_resume_never_to_resubmit(cli, fal_sandbox_env, tmp_path):
    path = write_jobs(tmp_path / "one.jsonl", 1)
    fal_sandbox_env.add_fault(
        role="queue", method="GET", path="/fal-ai/flux/requests/*", kind="status", code=503,
        request_id=False,
    )  # fmt: skip
    res = cli("batch", str(path))
    jobs, summary = ndjson(res.stdout)
    assert res.exit_code != 0 and jobs[0]["status"] == "submitted" and jobs[0]["request_id"]
    assert summary["counts"] == {"submitted": 1}
    assert summary["resume"] == f"genmedia batch resume {summary['batch_id']}"
    fal_sandbox_env.clear_faults()
    resumed = cli("batch", "resume", summary["batch_id"])
    assert resumed.exit_code == 0, resumed.stdout
    jobs2, final = ndjson(resumed.stdout)
    assert final["reattached"] == 1 and final["submitted"] == 0
    assert jobs2[0]["request_id"] == jobs[0]["request_id"]
    assert len(submits(fal_sandbox_env)) == 1


def test_batch_is_json_even_when_pretty_output_is_configured(cli, monkeypatch, tmp_path):
    # found by the long fuzz profile: the sandbox banner went to stderr as text before
    # batch switched to JSON, so stderr was not one JSON error object
    monkeypatch.setenv("GENMEDIA_OUTPUT", "pretty")
    result = cli("--sandbox", "batch", "resume", "no-such-batch")
    assert result.exit_code == 4
    assert json.loads(result.stderr)["error"].startswith("No batch")


@pytest.mark.parametrize("content", [b"\xff\xfe{}\n", b'{"endpoint_id": "a"}\n\xff\n'])
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_batch_file_that_is_not_utf8_is_a_usage_error(cli, tmp_path, content, suffix):
    # found by the long fuzz profile: UnicodeDecodeError was an internal error
    path = tmp_path / f"jobs{suffix}"
    path.write_bytes(content)
    result = cli(
        "--json", "--sandbox", "batch", "run", str(path), "--endpoint", "fal-ai/flux/schnell"
    )
    assert result.exit_code == 2, result
    assert "not UTF-8" in json.loads(result.stderr)["error"]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("1" * 5000, "not usable JSON"),  # over Python's integer digit limit: a ValueError
        ("[" * 5000 + "]" * 5000, "nests deeper"),  # a RecursionError in json.loads
        ("NaN", "not a JSON value"),  # Python reads it; no strict parser does
    ],
    ids=["huge-integer", "deep", "nan"],
)
def test_a_jsonl_line_json_refuses_is_a_usage_error_naming_the_line(cli, tmp_path, value, said):
    # both were internal errors (the first an AttributeError on the error's .msg)
    path = tmp_path / "jobs.jsonl"
    good = '{"endpoint_id": "fal-ai/flux/schnell", "input": {"prompt": "a"}}'
    path.write_text(good + "\n" + '{"endpoint_id": "fal-ai/flux/schnell", "input": {"seed": '
                    + value + "}}\n")  # fmt: skip
    result = cli("--json", "--sandbox", "batch", "run", str(path), "--dry-run")
    assert result.exit_code == 2, result
    error = json.loads(result.stderr)
    assert error["error"].startswith("Line 2: ") and said in error["error"]
    assert error["details"]["line"] == 2


def test_batch_run_offers_the_run_options_of_this_invocations_plugins_only():
    # the batch group was built once per process: a later invocation kept the options an
    # earlier one's plugins added to `run` (seen as stale generated docs in the suite)
    import click

    from genmedia import hookimpl
    from genmedia.testing import invoke

    class Knob:
        @hookimpl
        def genmedia_add_options(self, command_name):
            return [click.Option(["--extra-knob"], is_flag=True)] if command_name == "run" else []

    def options(*plugins):
        doc = json.loads(invoke(["--help", "--json", "batch", "run"], plugins=plugins).stdout)
        return {opt for p in doc["params"] for opt in p.get("opts", [])}

    assert "--extra-knob" in options(Knob())
    assert "--extra-knob" not in options()


class _BrokenOptions:
    """A third-party plugin whose genmedia_add_options raises, for every command."""

    @hookimpl
    def genmedia_add_options(self, command_name: str) -> list[click.Parameter] | None:
        raise RuntimeError(f"no options for {command_name} today")


def test_a_plugin_failing_to_add_options_leaves_batch_working(fal_sandbox_env, jobs_file):
    """genmedia_add_options is guarded: batch (which carries run's plugin options) works
    with a plugin whose implementation raises, and says so in a warning."""
    res = invoke(["batch", str(jobs_file), "--dry-run", "--json"], plugins=[_BrokenOptions()])
    assert res.exit_code == 0, res.stderr
    assert res.json["status"] == "dry_run" and res.json["jobs"] == 5
    failed = [w for w in res.json["warnings"] if "failed in genmedia_add_options" in w]
    assert any("no options for run today" in w for w in failed), res.json["warnings"]
