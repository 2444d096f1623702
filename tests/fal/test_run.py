"""run and status end to end, and every failure path, driven by emulator faults."""

from __future__ import annotations

import json
import time

import pytest

from tests.fal.waiting import wait_cancelled

SCHNELL = "fal-ai/flux/schnell"
KEY = "sandbox-test-key"


def events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith('{"event"')]


def queue_calls(server, suffix: str = "") -> list:
    return [r for r in server.requests if r.role == "queue" and r.path.endswith(suffix)]


def test_run_waits_and_prints_upstreams_shape(cli, fal_sandbox_env):
    result = cli("run", SCHNELL, "--prompt", "a cat", "--num_images", "2")
    assert result.exit_code == 0, result
    doc = result.json
    assert list(doc)[:4] == ["status", "endpoint_id", "request_id", "result"]
    assert doc["status"] == "completed" and doc["endpoint_id"] == SCHNELL
    assert len(doc["result"]["images"]) == 2
    (job,) = fal_sandbox_env.jobs
    assert doc["request_id"] == job.request_id
    assert job.input == {"prompt": "a cat", "num_images": 2}
    assert result.stderr == ""  # JSON mode without --events: nothing on stderr
    assert "logs" not in doc  # logs only with --logs, as upstream
    # the status stream was used, and the result fetched once
    assert queue_calls(fal_sandbox_env, "/status/stream")
    assert len([r for r in queue_calls(fal_sandbox_env) if r.path.endswith(job.request_id)]) == 1


def test_run_by_polling_when_the_stream_is_off(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.setenv("GENMEDIA_FAL_STATUS_STREAM", "0")
    fal_sandbox_env.set_timing(SCHNELL, run_s=0.3)
    result = cli("run", SCHNELL, "--prompt", "a cat")
    assert result.exit_code == 0, result
    assert not queue_calls(fal_sandbox_env, "/status/stream")
    assert len(queue_calls(fal_sandbox_env, "/status")) >= 2


def test_stream_failure_falls_back_to_polling(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(role="queue", path="*/status/stream", kind="status", code=500)
    result = cli("run", SCHNELL, "--prompt", "a cat")
    assert result.exit_code == 0, result
    assert queue_calls(fal_sandbox_env, "/status")


def test_submit_options_reach_the_queue(cli, fal_sandbox_env):
    result = cli(
        "run",
        SCHNELL,
        "--prompt",
        "x",
        "--priority",
        "low",
        "--start-timeout",
        "30",
        "--webhook",
        "http://127.0.0.1:9/hook",
        "--async",
    )
    assert result.exit_code == 0, result
    (job,) = fal_sandbox_env.jobs
    assert job.priority == "low" and job.request_timeout == 30.0
    assert job.webhook_url == "http://127.0.0.1:9/hook"


def test_logs_flag_adds_logs_to_the_result(cli, fal_sandbox_env):
    result = cli("run", SCHNELL, "--prompt", "x", "--logs")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    logs = result.json["logs"]
    assert logs and {"message", "level"} <= set(logs[0])


def test_events_flag_streams_ndjson_progress(cli, fal_sandbox_env):
    result = cli("run", SCHNELL, "--prompt", "x", "--events")
    assert result.exit_code == 0, result
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines == events(result.stderr)  # every stderr line is an event
    kinds = [e["event"] for e in lines]
    (job,) = fal_sandbox_env.jobs
    assert lines[0] == {
        "event": "submitted",
        "endpoint_id": SCHNELL,
        "request_id": job.request_id,
        "next": f"genmedia status {SCHNELL} {job.request_id} --wait",
    }
    assert "status" in kinds and "log" in kinds
    assert [e for e in events(result.stderr) if e["event"] == "status"][-1]["status"] == "COMPLETED"


def test_async_then_status_result_and_cancel(cli, fal_sandbox_env):
    submitted = cli("run", SCHNELL, "--prompt", "x", "--async")
    assert submitted.exit_code == 0, submitted
    doc = submitted.json
    rid = doc["request_id"]
    assert doc == {
        "status": "submitted",
        "request_id": rid,
        "endpoint_id": SCHNELL,
        "hint": f"Check status: genmedia status {SCHNELL} {rid}",
    }
    deadline = time.monotonic() + 5
    while fal_sandbox_env.job(rid).status != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(0.02)
    status = cli("status", SCHNELL, rid)
    assert status.exit_code == 0, status
    assert status.json["status"] == "COMPLETED" and status.json["request_id"] == rid
    result = cli("status", SCHNELL, rid, "--result")
    assert result.exit_code == 0, result
    assert result.json["status"] == "completed" and result.json["request_id"] == rid
    assert result.json["result"]["images"]
    # cancelling a finished job is an error, not a false "cancelled"
    again = cli("status", SCHNELL, rid, "--cancel")
    assert again.exit_code == 1 and "already completed" in again.error["error"]


def test_status_of_a_running_job_and_cancel(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    rid = cli("run", SCHNELL, "--prompt", "x", "--async").json["request_id"]
    status = cli("status", SCHNELL, rid)
    assert status.json["status"] in ("IN_QUEUE", "IN_PROGRESS")
    cancelled = cli("status", SCHNELL, rid, "--cancel")
    assert cancelled.exit_code == 0, cancelled
    assert cancelled.json["status"] == "cancelled" and cancelled.json["request_id"] == rid
    deadline = time.monotonic() + 3
    while not fal_sandbox_env.job(rid).cancelled and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fal_sandbox_env.job(rid).cancelled


def test_status_wait_reattaches(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=0.3)
    rid = cli("run", SCHNELL, "--prompt", "x", "--async").json["request_id"]
    result = cli("status", SCHNELL, rid, "--wait")
    assert result.exit_code == 0, result
    assert result.json["status"] == "completed" and result.json["request_id"] == rid


def test_status_unknown_request(cli, fal_sandbox_env):
    result = cli("status", SCHNELL, "00000000-0000-0000-0000-000000000000")
    assert result.exit_code == 4
    assert result.error["details"]["status"] == 404


def test_dry_run_submits_nothing(cli, fal_sandbox_env):
    result = cli("run", "fal-ai/flux/dev", "--prompt", "x", "--num_images", "2", "--dry-run")
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["status"] == "dry_run" and doc["input"] == {"prompt": "x", "num_images": 2}
    assert doc["estimate"]["total_cost"] == pytest.approx(2 * doc["estimate"]["unit_price"])
    assert doc["estimate"]["currency"] == "USD"
    assert not fal_sandbox_env.jobs
    assert not queue_calls(fal_sandbox_env)


# --------------------------------------------------------------------------- failures


def test_422_from_the_model(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue",
        path=f"/{SCHNELL}",
        kind="model_error",
        code=422,
        message="Image too large",
        count=1,
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 5, result
    err = result.error
    assert err["error"] == "Validation error — body: Image too large"
    details = err["details"]
    (job,) = fal_sandbox_env.jobs
    assert list(details)[:5] == [
        "endpoint_id",
        "request_id",
        "status",
        "error_type",
        "validation_errors",
    ]
    assert details["request_id"] == job.request_id and details["status"] == 422
    assert details["error_type"] == "ValidationError"
    assert details["validation_errors"][0]["field"] == "body"
    assert details["body"]["detail"][0]["msg"] == "Image too large"
    assert any(e["level"] == "ERROR" for e in details["logs"])


def test_model_failure_reports_message_type_id_and_logs(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue", path=f"/{SCHNELL}", kind="model_error", message="CUDA out of memory", count=1
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 7, result
    err = result.error
    (job,) = fal_sandbox_env.jobs
    assert "CUDA out of memory" in err["error"]
    assert err["details"]["request_id"] == job.request_id
    assert err["details"]["error_type"] == "runner_server_error"
    messages = [e["message"] for e in err["details"]["logs"]]
    assert "CUDA out of memory" in messages


def test_unauthorized_gives_a_hint_and_never_the_key(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue", kind="status", code=401, message="No user found for Key ID and Secret"
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 3, result
    assert result.error["error"] == "No user found for Key ID and Secret"
    assert "genmedia setup" in result.error["details"]["hint"]
    assert KEY not in result.stdout + result.stderr
    assert len(queue_calls(fal_sandbox_env)) == 1  # 401 is never retried


def test_missing_key_fails_before_any_request(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.delenv("FAL_KEY")
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 3
    assert result.error["error"].startswith("No fal.ai API key found")
    assert not fal_sandbox_env.requests  # not even the schema fetch
    assert "warning" not in result.stderr


def test_429_storm_is_retried_then_succeeds(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue",
        path=f"/{SCHNELL}",
        method="POST",
        kind="status",
        code=429,
        retry_after=0,
        count=3,
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 0, result
    assert len(fal_sandbox_env.jobs) == 1
    assert [r.status_code for r in queue_calls(fal_sandbox_env, SCHNELL)] == [429, 429, 429, 200]


def test_endless_429_gives_up_with_exit_6(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue", path=f"/{SCHNELL}", method="POST", kind="status", code=429, retry_after=0
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 6, result
    assert result.error["details"]["status"] == 429
    assert not fal_sandbox_env.jobs
    assert len(queue_calls(fal_sandbox_env, SCHNELL)) == 5  # bounded


def test_503_retry_after_is_honoured(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue",
        path=f"/{SCHNELL}",
        method="POST",
        kind="status",
        code=503,
        retry_after=1,
        count=1,
    )
    result = cli("--debug", "run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 0, result
    # the wait Retry-After asked for (back-off alone would be 0.125–0.25 s); the suite
    # scales waits to 0 (GENMEDIA_RETRY_DELAY_SCALE), so the computed delay is asserted
    assert f"submit {SCHNELL}: HTTP 503; retry 1 in 1.00s" in result.json["warnings"]
    assert [r.status_code for r in queue_calls(fal_sandbox_env, SCHNELL)] == [503, 200]
    assert len(fal_sandbox_env.jobs) == 1


def test_ingress_5xx_without_request_id_is_retried_but_not_with_one(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue",
        path=f"/{SCHNELL}",
        method="POST",
        kind="status",
        code=502,
        request_id=False,
        count=1,
    )
    assert cli("run", SCHNELL, "--prompt", "x").exit_code == 0
    fal_sandbox_env.reset()
    fal_sandbox_env.add_fault(
        role="queue", path=f"/{SCHNELL}", method="POST", kind="status", code=500, count=1
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 7
    assert len(queue_calls(fal_sandbox_env, SCHNELL)) == 1


def test_reset_after_the_submit_body_is_not_resubmitted(cli, fal_sandbox_env):
    fal_sandbox_env.add_fault(
        role="queue", path=f"/{SCHNELL}", method="POST", kind="reset_after_body", count=1
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 7, result
    assert len(fal_sandbox_env.jobs) == 1  # exactly one job: never resubmitted
    err = result.error
    assert "a job may exist" in err["error"]
    assert err["details"]["endpoint_id"] == SCHNELL
    assert "genmedia status" in err["details"]["hint"]


def test_connection_refused_is_retried_then_reported(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.setenv("GENMEDIA_FAL_QUEUE_URL", "http://127.0.0.1:9")
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 7
    assert "Could not reach fal" in result.error["error"]


def test_status_and_result_calls_are_retried(cli, fal_sandbox_env, monkeypatch):
    monkeypatch.setenv("GENMEDIA_FAL_STATUS_STREAM", "0")
    fal_sandbox_env.add_fault(
        role="queue", path="*/status", kind="status", code=503, retry_after=0, count=2
    )
    fal_sandbox_env.add_fault(
        role="queue", path="*/requests/*[0-9a-f]", method="GET", kind="reset", count=1
    )
    result = cli("run", SCHNELL, "--prompt", "x")
    assert result.exit_code == 0, result


def test_timeout_leaves_the_job_running(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    started = time.monotonic()
    result = cli("run", SCHNELL, "--prompt", "x", "--timeout", "0.5")
    assert time.monotonic() - started < 3
    assert result.exit_code == 8, result
    (job,) = fal_sandbox_env.jobs
    details = result.error["details"]
    assert details["request_id"] == job.request_id
    assert details["resume"] == f"genmedia status {SCHNELL} {job.request_id} --wait"
    assert job.status != "COMPLETED" and not job.cancelled


def test_timeout_with_cancel_on_interrupt_cancels(cli, fal_sandbox_env):
    fal_sandbox_env.set_timing(SCHNELL, run_s=5)
    result = cli("run", SCHNELL, "--prompt", "x", "--timeout", "0.3", "--cancel-on-interrupt")
    assert result.exit_code == 8, result
    (job,) = fal_sandbox_env.jobs
    assert result.error["details"]["cancel"] == "CANCELLATION_REQUESTED"
    assert wait_cancelled(job)
