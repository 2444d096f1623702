"""Many genmedia processes downloading into one directory at once (the normal agent case).

Eight real ``genmedia run … --download shared/`` processes against one emulator whose
outputs are distinct per job and served slowly enough that the downloads overlap. Every
file must hold exactly the bytes served for its job, under the hash reported on stdout and
in the journal, at a path no other job reports, with no part file left anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import listing

SCHNELL = "fal-ai/flux/schnell"
PROCESSES = 8
SIZE = 300_000


def served_bytes(server, url: str) -> bytes:
    key = url.split("/files/")[1].split("/")[0]
    stored = server.sandbox.storage.get(key)
    return b"".join(stored.iter_range(0, stored.size - 1))


@pytest.mark.timeout(180)
def test_parallel_runs_into_one_directory(fal_sandbox, cli, tmp_path, workdir):
    from genmedia_sandbox.pytest_plugin import sandbox_environment

    # every job's first output is a distinct 300 kB blob, served at 100 kB/s: ~3 s each
    fal_sandbox.add_fault(role="queue", method="POST", kind="large_output", size=SIZE)
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="slow_body", bytes_per_s=100_000)
    env = {**os.environ, **sandbox_environment(fal_sandbox, tmp_path)}
    args = ["run", SCHNELL, "--download", "shared/", "--json"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "genmedia", *args, "--prompt", f"job {i}"],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    outputs = [proc.communicate(timeout=150) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (stdout, stderr)
    docs = [json.loads(stdout) for stdout, _ in outputs]

    reported = [f for doc in docs for f in doc["downloaded_files"]]
    assert len(reported) == PROCESSES and all(not d.get("download_failures") for d in docs)
    paths = [f["path"] for f in reported]
    assert len(set(paths)) == PROCESSES  # no two jobs report the same file
    served = set()
    for f in reported:
        data = served_bytes(fal_sandbox, f["url"])
        on_disk = Path(f["path"]).read_bytes()
        assert len(data) == SIZE and on_disk == data, f["path"]
        assert (
            f["sha256"] == hashlib.sha256(data).hexdigest() == hashlib.sha256(on_disk).hexdigest()
        )
        served.add(data)
    assert len(served) == PROCESSES  # the emulator really served distinct bytes per job
    # only final files: no part file, no .json, no temporary file left by anyone
    names = sorted(Path(p).name for p in paths)
    assert listing(workdir) == sorted(f"shared/{n}" for n in names)
    assert names == sorted(["images.jpg"] + [f"images_{n}.jpg" for n in range(1, PROCESSES)])

    # the journal records the same hash for each job
    for doc in docs:
        [f] = doc["downloaded_files"]
        shown = cli("history", "show", doc["request_id"], "--json", env=env)
        assert shown.exit_code == 0, shown
        [row] = shown.json["files"]
        assert row["path"] == f["path"] and row["sha256"] == f["sha256"]
