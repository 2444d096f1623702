"""``genmedia history``: list (filters, views), show, path."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from genmedia import errors
from genmedia_history.commands import parse_since
from genmedia_history.journal import FileRecord, Journal


@pytest.fixture
def seeded(db_path: Path) -> Journal:
    journal = Journal(db_path)
    now = time.time()
    jobs = [
        ("r-old", "fal-ai/flux/dev", "a red cat on a mat", now - 10 * 86400),
        ("r-dog", "fal-ai/flux/schnell", "a blue dog", now - 2 * 3600),
        ("r-fox", "fal-ai/veo3", "a red fox running", now - 60),
    ]
    for rid, endpoint, prompt, when in jobs:
        journal.record_job(
            provider="fal",
            endpoint_id=endpoint,
            request_id=rid,
            input={"prompt": prompt, "seed": 1},
            submitted_at=when,
            extra={"status_url": f"https://queue.fal.run/x/requests/{rid}/status"},
        )
    journal.complete(
        "fal",
        "r-old",
        result={"images": [{"url": "https://v3.fal.media/a.png"}]},
        files=[
            FileRecord(
                path="/out/a.png", url="https://v3.fal.media/a.png", sha256="ab" * 32, size_bytes=10
            )
        ],
    )
    journal.update_status("fal", "r-dog", status="in_progress", host_status="IN_PROGRESS")
    return journal


def request_ids(result) -> list[str]:
    assert result.exit_code == 0, result
    return [job["request_id"] for job in result.json["jobs"]]


def test_history_lists_newest_first_and_list_is_the_default(cli, seeded) -> None:
    assert request_ids(cli("history")) == ["r-fox", "r-dog", "r-old"]
    assert request_ids(cli("history", "list")) == ["r-fox", "r-dog", "r-old"]
    job = cli("history").json["jobs"][2]
    assert job["status"] == "completed" and job["files"] == ["/out/a.png"]
    assert job["prompt"] == "a red cat on a mat"
    assert job["submitted_at"].endswith("Z") and "resume" not in job
    assert "input" not in job and "result" not in job  # the list is compact


def test_filters(cli, seeded) -> None:
    assert request_ids(cli("history", "red")) == ["r-fox", "r-old"]  # TEXT without "list"
    assert request_ids(cli("history", "list", "red", "cat")) == ["r-old"]
    assert request_ids(cli("history", "--status", "pending")) == ["r-fox", "r-dog"]
    assert request_ids(cli("history", "--status", "in_progress,completed")) == ["r-dog", "r-old"]
    assert request_ids(cli("history", "--since", "1d")) == ["r-fox", "r-dog"]
    assert request_ids(cli("history", "--since", "5m")) == ["r-fox"]
    assert request_ids(cli("history", "--endpoint", "fal-ai/flux")) == ["r-dog", "r-old"]
    assert request_ids(cli("history", "--limit", "1")) == ["r-fox"]
    assert request_ids(cli("history", "--since", "1d", "--status", "pending", "fox")) == ["r-fox"]
    pending = cli("history", "--status", "pending").json["jobs"]
    assert pending[1]["resume"] == "genmedia status r-dog --wait"


def test_bad_filters_are_usage_errors(cli, seeded) -> None:
    bad_since = cli("history", "--since", "last tuesday")
    assert bad_since.exit_code == errors.EXIT_USAGE and "--since" in bad_since.error["error"]
    bad_status = cli("history", "--status", "running")
    assert bad_status.exit_code == errors.EXIT_USAGE
    assert "pending" in bad_status.error["details"]["choices"]


def test_parse_since() -> None:
    now = 1_000_000.0
    assert parse_since("90s", now=now) == now - 90
    assert parse_since("2h", now=now) == now - 7200
    assert parse_since("1w", now=now) == now - 604800
    assert (
        parse_since("2026-01-02T03:04:05Z")
        == datetime.fromisoformat("2026-01-02T03:04:05+00:00").timestamp()
    )
    assert parse_since("today", now=time.time()) <= time.time()


def test_show_by_last_id_request_id_and_prefix(cli, seeded) -> None:
    last = cli("history", "show", "last")
    assert last.exit_code == 0, last
    assert last.json["request_id"] == "r-fox"
    assert last.json["input"] == {"prompt": "a red fox running", "seed": 1}
    assert last.json["status_url"].endswith("/r-fox/status")
    assert last.json["resume"] == "genmedia status r-fox --wait"
    old = cli("history", "show", "r-old").json
    assert old["result"]["images"][0]["url"] == "https://v3.fal.media/a.png"
    assert old["files"] == [
        {
            "path": "/out/a.png",
            "url": "https://v3.fal.media/a.png",
            "size_bytes": 10,
            "sha256": "ab" * 32,
            "saved_at": old["files"][0]["saved_at"],
        }
    ]
    assert isinstance(old["duration_s"], float)
    assert cli("history", "show", str(old["id"])).json["request_id"] == "r-old"
    missing = cli("history", "show", "nope")
    assert missing.exit_code == errors.EXIT_NOT_FOUND


def test_empty_journal(cli, db_path) -> None:
    assert cli("history").json == {"jobs": []}
    assert cli("history", "show", "last").exit_code == errors.EXIT_NOT_FOUND
    assert cli("history", "path").json == {"path": str(db_path), "exists": False}
    assert cli("status", "last").exit_code == errors.EXIT_USAGE
    assert not db_path.exists()  # reading never creates the journal


def test_pretty_views(cli, seeded) -> None:
    table = cli("history", env={"GENMEDIA_OUTPUT": "pretty", "COLUMNS": "200"})
    assert table.exit_code == 0, table
    assert "r-fox" in table.stdout and "in_progress" in table.stdout
    assert "genmedia status r-fox --wait" in table.stdout
    shown = cli("history", "show", "r-old", env={"GENMEDIA_OUTPUT": "pretty"})
    assert shown.exit_code == 0 and "r-old" in shown.stdout
    where = cli("history", "path", env={"GENMEDIA_OUTPUT": "pretty"})
    assert where.stdout.strip().endswith("history.db")


def test_help(cli) -> None:
    result = cli("history", "--help")
    assert result.exit_code == 0
    for name in ("list", "show", "path"):
        assert name in result.stdout
    assert "--no-history" in cli("run", "--help").stdout
    assert "--no-history" in cli("status", "--help").stdout
