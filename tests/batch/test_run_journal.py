"""A batch's jobs in the run journal, with their batch id: ``history`` shows it and
filters by it, ``gallery build --batch ID`` shows exactly that batch's runs — for jobs
submitted, retried by ``batch resume`` and re-attached after a ``kill -9``."""

from __future__ import annotations

import html
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from .conftest import SCHNELL, ndjson, run, start, wait_rows, write_jobs


def history_ids(cli: Any, *args: str) -> dict[str, dict[str, Any]]:
    res = cli("history", "list", "--limit", "0", "--json", *args)
    assert res.exit_code == 0 and res.stderr == "", res
    return {job["request_id"]: job for job in res.json["jobs"]}


def gallery(cli: Any, out: Path, *args: str) -> tuple[dict[str, Any], list[str], str]:
    """(build report, request ids in gallery.json, the page) of ``gallery build``."""
    res = cli("gallery", "build", "--json", "--out", str(out), *args)
    assert res.exit_code == 0 and res.stderr == "", res
    manifest = json.loads((out / "gallery.json").read_text())
    return res.json, manifest["runs"], (out / "index.html").read_text()


def test_history_and_gallery_show_a_batch_and_only_it(cli, fal_sandbox_env, tmp_path):
    alone = cli("run", SCHNELL, "--prompt", "a cat alone", "--json")
    assert alone.exit_code == 0, alone
    single = alone.json["request_id"]
    first = cli("batch", str(write_jobs(tmp_path / "a.jsonl", 3)), "--concurrency", "2")
    assert first.exit_code == 0, first.stderr
    jobs, summary = ndjson(first.stdout)
    batch_id, mine = summary["batch_id"], {j["request_id"] for j in jobs}
    other = cli("batch", str(write_jobs(tmp_path / "b.jsonl", 2, prefix="dog")))
    assert other.exit_code == 0, other.stderr
    other_jobs, other_summary = ndjson(other.stdout)
    assert other_summary["batch_id"] != batch_id and len(mine) == 3

    everything = history_ids(cli)
    assert set(everything) == mine | {single} | {j["request_id"] for j in other_jobs}
    assert "batch" not in everything[single]  # a single run belongs to no batch
    assert {everything[rid]["batch"] for rid in mine} == {batch_id}
    listed = history_ids(cli, "--batch", batch_id)
    assert set(listed) == mine
    assert all(job["batch"] == batch_id and job["status"] == "completed" for job in listed.values())
    assert history_ids(cli, "--batch", "no-such-batch") == {}
    shown = cli("history", "show", sorted(mine)[0], "--json")
    assert shown.exit_code == 0 and shown.json["batch"] == batch_id

    report, shown_ids, page = gallery(cli, tmp_path / "g", "--batch", batch_id)
    assert report["runs"] == 3 and sorted(shown_ids) == sorted(mine)
    assert page.count(f'<dt>batch</dt><dd class="mono">{html.escape(batch_id)}</dd>') == 3
    assert single not in page and other_summary["batch_id"] not in page
    assert all(rid in page for rid in mine)
    # without the filter the gallery has every run; the single run's card has no batch
    report, shown_ids, page = gallery(cli, tmp_path / "all")
    assert report["runs"] == 6 and set(shown_ids) == set(everything)
    assert page.count("<dt>batch</dt>") == 5


def test_a_retried_job_is_recorded_in_its_batch(cli, fal_sandbox_env, tmp_path):
    fal_sandbox_env.add_fault(
        role="queue", method="POST", path=f"/{SCHNELL}", kind="model_error", count=1
    )
    first = cli("batch", str(write_jobs(tmp_path / "jobs.jsonl", 3)))
    jobs, summary = ndjson(first.stdout)
    batch_id = summary["batch_id"]
    (failed,) = [j["request_id"] for j in jobs if j["status"] == "failed"]
    resumed = cli("batch", "resume", batch_id, "--retry-failed")
    assert resumed.exit_code == 0, resumed.stdout
    (retried,) = ndjson(resumed.stdout)[0]
    listed = history_ids(cli, "--batch", batch_id)
    # both attempts of the failed line, and the two that completed the first time
    assert set(listed) == {j["request_id"] for j in jobs} | {retried["request_id"]}
    assert listed[failed]["status"] == "failed" and retried["request_id"] != failed
    assert listed[retried["request_id"]]["status"] == "completed"
    report, shown_ids, _ = gallery(cli, tmp_path / "g", "--batch", batch_id, "--status", "failed")
    assert shown_ids == [failed]


@pytest.mark.timeout(120)
def test_jobs_re_attached_by_a_rerun_are_recorded_with_the_batch(
    fal_sandbox, tmp_path, monkeypatch
):
    """The first process records nothing (GENMEDIA_NO_HISTORY) and is killed while its
    jobs run: the rerun that re-attaches to them writes their rows, with the batch."""
    fal_sandbox.set_timing(SCHNELL, run_s=8)
    jobs = write_jobs(tmp_path / "jobs.jsonl", 4)
    monkeypatch.setenv("GENMEDIA_NO_HISTORY", "1")  # for the first process only
    proc = start(fal_sandbox, tmp_path, str(jobs), "--concurrency", "2", "--rate", "0")
    monkeypatch.delenv("GENMEDIA_NO_HISTORY")
    wait_rows(tmp_path, proc, 2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    fal_sandbox.set_timing(SCHNELL, run_s=0)
    again = run(fal_sandbox, tmp_path, "batch", str(jobs), "--concurrency", "2")
    assert again.returncode == 0, again.stderr
    lines, summary = ndjson(again.stdout)
    assert summary["reattached"] >= 2 and summary["counts"] == {"completed": 4}
    listed = run(fal_sandbox, tmp_path, "--json", "history", "list", "--batch", summary["batch_id"])
    assert listed.returncode == 0, listed.stderr
    recorded = {j["request_id"]: j["batch"] for j in json.loads(listed.stdout)["jobs"]}
    assert recorded == {line["request_id"]: summary["batch_id"] for line in lines}
