"""Helpers for the batch tests: job files, NDJSON parsing, a batch run in a real process
against the served emulator, and a look into the batch journal."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from genmedia_sandbox.pytest_plugin import sandbox_environment

SCHNELL = "fal-ai/flux/schnell"


def write_jobs(path: Path, n: int, *, endpoint: str = SCHNELL, prefix: str = "cat") -> Path:
    lines = [
        json.dumps({"endpoint_id": endpoint, "input": {"prompt": f"{prefix} {i}"}, "id": f"j{i}"})
        for i in range(1, n + 1)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def ndjson(stdout: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(job lines, summary): every line one JSON object, the summary last."""
    docs = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert docs, "no output"
    *jobs, summary = docs
    assert "counts" in summary and "line" not in summary, summary
    assert all("line" in job for job in jobs), jobs
    return jobs, summary


def submits(server: Any, endpoint: str = SCHNELL) -> list[Any]:
    """The submit requests the emulator received for ``endpoint``."""
    return [
        r
        for r in server.requests
        if r.role == "queue" and r.method == "POST" and r.path == f"/{endpoint}"
    ]


def env_for(server: Any, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(sandbox_environment(server, tmp_path))
    return env


def start(server: Any, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "genmedia", "batch", *args],
        cwd=tmp_path,
        env=env_for(server, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(server: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genmedia", *args],
        cwd=tmp_path,
        env=env_for(server, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def journal(tmp_path: Path) -> Path:
    """The batch journal of a subprocess started with :func:`start`."""
    found = list(tmp_path.glob("**/batches.db"))
    return found[0] if found else tmp_path / "missing.db"


def rows(db: Path) -> list[sqlite3.Row]:
    if not db.is_file():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM jobs ORDER BY line").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def wait_rows(tmp_path: Path, proc: subprocess.Popen[str], n: int, limit: float = 60) -> None:
    """Until ``n`` jobs have their request id committed."""
    deadline = time.monotonic() + limit
    while sum(1 for r in rows(journal(tmp_path)) if r["request_id"]) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the batch never submitted"
        time.sleep(0.05)
