"""A batch remembers the output marks and command words it was made under (a plugin's
``Settings.marks`` / ``Settings.invocation``, here a test plugin's ``--staging``): its
resume hint starts with those words, it is resumed only under the same marks, and a
batch journal from before (``sandbox`` column only) still reads."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from genmedia import hookimpl
from genmedia.testing import invoke
from tests.plugins.staging import Staging

from .conftest import ndjson, write_jobs


def staged(*args: str):
    return invoke(list(args), plugins=[Staging()])


def test_a_batch_keeps_its_marks_and_words(fal_sandbox_env, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.jsonl", 3)
    fal_sandbox_env.add_fault(role="queue", method="POST", kind="model_error", count=1)
    first = staged("--staging", "batch", str(jobs))
    assert first.exit_code == 7, first.stderr
    _, summary = ndjson(first.stdout)
    batch_id = summary["batch_id"]
    assert summary["staging"] is True
    assert summary["resume"] == f"genmedia --staging batch resume {batch_id} --retry-failed"

    # without the option that made it: refused, with the words that resume it
    plain = staged("batch", "resume", batch_id, "--retry-failed")
    assert plain.exit_code == 2, plain.stderr
    error = json.loads(plain.stderr)
    assert 'made under marks {"staging": true}' in error["error"]
    assert "this invocation has none" in error["error"]
    assert error["details"]["hint"] == f"genmedia --staging batch resume {batch_id}"

    (listed,) = json.loads(staged("batch", "list", "--json").stdout)["batches"]
    assert listed["staging"] is True and listed["marks"] == {"staging": True}

    again = staged("--staging", "batch", "resume", batch_id, "--retry-failed")
    assert again.exit_code == 0, again.stderr
    _, summary = ndjson(again.stdout)
    assert summary["status"] == "completed" and summary["staging"] is True


def test_a_batch_journal_from_before_marks_still_reads(isolated_env):
    """``batches.db`` as the first layout left it: a sandbox batch (``sandbox = 1``) is
    one made under ``{"sandbox": true}`` by ``genmedia --sandbox``; columns are added."""
    path = isolated_env / "data" / "batches.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE batches (id TEXT PRIMARY KEY, created_at REAL NOT NULL,
            updated_at REAL NOT NULL, source TEXT, state TEXT NOT NULL,
            total INTEGER NOT NULL, options TEXT NOT NULL,
            sandbox INTEGER NOT NULL DEFAULT 0);
        INSERT INTO batches VALUES ('b-old', 1000, 1000, 'jobs.jsonl', 'running', 0, '{}', 1);
        INSERT INTO batches VALUES ('b-plain', 999, 999, 'jobs.jsonl', 'running', 0, '{}', 0);
        """
    )
    conn.commit()
    conn.close()
    listed = json.loads(staged("batch", "list", "--json").stdout)["batches"]
    assert [(b["batch_id"], b.get("sandbox"), b.get("marks")) for b in listed] == [
        ("b-old", True, {"sandbox": True}),
        ("b-plain", None, None),
    ]
    refused = staged("batch", "resume", "b-old")
    assert refused.exit_code == 2
    assert json.loads(refused.stderr)["details"]["hint"] == "genmedia --sandbox batch resume b-old"


class _StateMark:
    """A plugin whose output mark is named like a batch's own key (``state``)."""

    @hookimpl
    def genmedia_configure(self, config: Any) -> None:
        config.marks["state"] = "staged"


def test_a_mark_never_overwrites_a_batch_key(fal_sandbox_env, tmp_path):
    """A mark is added to a listed or shown batch only where the batch has no key of that
    name (as everywhere else): the batch's own ``state`` stays, the mark is in ``marks``."""
    jobs = write_jobs(tmp_path / "jobs.jsonl", 1)
    ran = invoke(["batch", str(jobs)], plugins=[_StateMark()])
    assert ran.exit_code == 0, ran.stderr
    batch_id = ndjson(ran.stdout)[1]["batch_id"]
    (listed,) = json.loads(invoke(["batch", "list", "--json"], plugins=[_StateMark()]).stdout)[
        "batches"
    ]
    assert listed["state"] == "completed" and listed["marks"] == {"state": "staged"}
    shown = invoke(["batch", "show", batch_id, "--json"], plugins=[_StateMark()])
    assert shown.json["state"] == "completed" and shown.json["marks"] == {"state": "staged"}
