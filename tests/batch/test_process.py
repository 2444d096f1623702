"""A batch in a real process: exactly once after ``kill -9`` (the emulator's log shows no
duplicate submit) and resume to completion; SIGTERM; the back-off every worker shares."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter

import pytest

from .conftest import SCHNELL, journal, ndjson, rows, run, start, submits, wait_rows, write_jobs


@pytest.mark.timeout(120)
def test_kill_9_then_rerun_submits_nothing_twice(fal_sandbox, tmp_path):
    fal_sandbox.set_timing(SCHNELL, run_s=8)
    jobs = write_jobs(tmp_path / "jobs.jsonl", 6)
    proc = start(fal_sandbox, tmp_path, str(jobs), "--concurrency", "2", "--rate", "0")
    wait_rows(tmp_path, proc, 2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    before = rows(journal(tmp_path))
    running = [r for r in before if r["request_id"]]
    assert {r["state"] for r in running} == {"submitted"}
    assert len(fal_sandbox.jobs) == len(running)
    fal_sandbox.set_timing(SCHNELL, run_s=0)
    again = run(fal_sandbox, tmp_path, "batch", str(jobs), "--concurrency", "3")
    assert again.returncode == 0, again.stderr
    lines, summary = ndjson(again.stdout)
    assert summary["counts"] == {"completed": 6}
    assert summary["reattached"] == len(running)
    assert summary["submitted"] == 6 - len(running)
    # the emulator saw each job submitted once: six submits, six distinct inputs
    assert len(submits(fal_sandbox)) == 6
    prompts = Counter(j.input["prompt"] for j in fal_sandbox.jobs)
    assert len(prompts) == 6 and set(prompts.values()) == {1}
    # the re-attached jobs kept their request ids
    by_line = {line["line"]: line["request_id"] for line in lines}
    assert all(by_line[r["line"]] == r["request_id"] for r in running)


@pytest.mark.timeout(120)
def test_sigterm_stops_submitting_and_resume_finishes(fal_sandbox, tmp_path):
    fal_sandbox.set_timing(SCHNELL, run_s=30)
    jobs = write_jobs(tmp_path / "jobs.jsonl", 5)
    proc = start(fal_sandbox, tmp_path, str(jobs), "--concurrency", "2", "--rate", "0")
    wait_rows(tmp_path, proc, 2)
    os.killpg(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    _, summary = ndjson(out)
    assert summary["status"] == "interrupted"
    assert summary["counts"] == {"submitted": 2, "pending": 3}
    error = json.loads(err)
    assert error["details"]["signal"] == "SIGTERM"
    batch_id = summary["batch_id"]
    assert error["details"]["resume"] == f"genmedia batch resume {batch_id}"
    assert "Traceback" not in err
    ids = [r["request_id"] for r in rows(journal(tmp_path)) if r["request_id"]]
    assert len(ids) == 2 and len(fal_sandbox.jobs) == 2
    for rid in ids:  # the run journal knows the jobs were left running
        shown = run(fal_sandbox, tmp_path, "--json", "history", "show", rid)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["status"] == "interrupted"
        assert not fal_sandbox.job(rid).cancelled
    # cancel what runs, then resume: nothing is left to submit
    cancelled = run(fal_sandbox, tmp_path, "--json", "batch", "cancel", batch_id)
    assert cancelled.returncode == 0, cancelled.stderr
    doc = json.loads(cancelled.stdout)
    assert doc["never_submitted"] == 3 and sorted(doc["cancel_requested"]) == sorted(ids)
    resumed = run(fal_sandbox, tmp_path, "batch", "resume", batch_id)
    _, final = ndjson(resumed.stdout)
    assert final["status"] == "cancelled" and final["submitted"] == 0
    assert final["counts"].get("pending", 0) == 0
    assert len(submits(fal_sandbox)) == 2


@pytest.mark.timeout(120)
def test_one_back_off_for_every_worker(fal_sandbox, tmp_path):
    fal_sandbox.add_fault(
        role="queue", method="POST", path=f"/{SCHNELL}", kind="status", code=429, retry_after=2,
        count=1,
    )  # fmt: skip
    jobs = write_jobs(tmp_path / "jobs.jsonl", 6)
    # one submit a second: the 429 is back long before the next worker's turn, so only the
    # shared back-off (2 s) can explain a later gap
    res = run(fal_sandbox, tmp_path, "batch", str(jobs), "--concurrency", "4", "--rate", "1")
    assert res.returncode == 0, res.stderr
    assert ndjson(res.stdout)[1]["counts"] == {"completed": 6}
    sent = submits(fal_sandbox)
    refused = [r for r in sent if r.status_code == 429]
    assert len(sent) == 7 and len(refused) == 1  # one refused (then retried), six jobs
    # once the 429 was answered, no worker passed the gate before its Retry-After: each
    # job was claimed for its submit either before it (in flight) or 2 s after
    answered = refused[0].timestamp
    claimed = [r["submitted_at"] - answered for r in rows(journal(tmp_path))]
    assert all(t < 0 or t >= 1.9 for t in claimed), claimed
    assert sum(t >= 1.9 for t in claimed) >= 4, claimed
