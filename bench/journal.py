"""The run journal's cost on the run path: completion → result, and fsyncs per run.

Usage::

    .venv/bin/python bench/journal.py [--runs 15] [--run-time 0.05] [--no-strace]

One emulator on 127.0.0.1 (in this process); ``python -m genmedia run ENDPOINT --prompt …
--json`` as a fresh process each time, alternating a run that records in the journal with
one under ``--no-history`` (same interpreter, same home), so the journal's share of each
figure is the difference. Printed for both, from the emulator's own request log:

- **completion → result**: the job's completion timestamp to the result GET (the figure
  issue 14 asks ≤ 5 ms for, with the status stream (SSE) as genmedia uses it);
- **submit → status stream open**: the submit POST to the status stream GET (the row
  written at submit is committed and synced in between: that promise stays);
- with ``strace`` installed (``apt-get install strace``), the ``fsync``/``fdatasync``
  calls of one recording run and one ``--no-history`` run (``strace -f -c``).

``--run-time`` is the emulator's model time: with the default 0.25 s the job completes
after the status stream is open, so completion → result measures exactly the path from
the COMPLETED event to the result GET; with 0 (bench/e2e.py's setting) the job may complete
while genmedia is still submitting, and the figure then includes the submit path.
Bytecode is cached (a temporary ``PYTHONPYCACHEPREFIX``), the first round is a warm-up.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from goals import Goals, spread


def run_once(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    return json.loads(proc.stdout)["request_id"]  # type: ignore[no-any-return]


def phases(server: object, rid: str) -> tuple[float | None, float | None]:
    """(completion → result GET, submit → status stream GET) in seconds, from the log."""
    requests = [r for r in server.requests if r.role == "queue"]  # type: ignore[attr-defined]
    done = server.completion_times.get(rid)  # type: ignore[attr-defined]
    result = [
        r.timestamp for r in requests if r.method == "GET" and r.path.rstrip("/").endswith(rid)
    ]
    stream = [
        r.timestamp for r in requests if r.method == "GET" and rid in r.path and "/status" in r.path
    ]
    submit = [
        r.timestamp for r in requests if r.method == "POST" and r.timestamp <= (stream or [0])[0]
    ]
    lat = result[0] - done if done is not None and result else None
    open_ = stream[0] - submit[-1] if stream and submit else None
    return lat, open_


def fsyncs(cmd: list[str], env: dict[str, str]) -> dict[str, int] | None:
    """fsync and fdatasync calls of one run of ``cmd`` under ``strace -f -c``."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        proc = subprocess.run(
            [strace, "-f", "-c", "-o", out.name, "-e", "trace=fsync,fdatasync", *cmd],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        if proc.returncode != 0:
            return None
        counts = {"fsync": 0, "fdatasync": 0}
        for line in out.read().splitlines():
            match = re.match(
                r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)$", line
            )
            if match:
                counts[match.group(2)] = int(match.group(1))
        return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--endpoint", default="fal-ai/flux/schnell")
    parser.add_argument("--run-time", type=float, default=0.25, help="model time (s)")
    parser.add_argument("--no-strace", action="store_true", help="skip the fsync count")
    args = parser.parse_args()

    from genmedia_sandbox.server import start_sandbox

    server = start_sandbox(queue_s=0.0, run_s=args.run_time)
    work = Path(tempfile.mkdtemp(prefix="genmedia-bench-journal-"))
    env = dict(os.environ)
    env.update(server.env())
    env.update(FAL_KEY="sandbox-bench", GENMEDIA_HOME=str(work / "home"), GENMEDIA_NO_GALLERY="1")
    env.pop("GENMEDIA_NO_HISTORY", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    base = [sys.executable, "-m", "genmedia", "run", args.endpoint, "--prompt", "a bench cat"]
    commands = {"journal": [*base, "--json"], "--no-history": [*base, "--no-history", "--json"]}
    latency: dict[str, list[float]] = {name: [] for name in commands}
    opening: dict[str, list[float]] = {name: [] for name in commands}
    counts: dict[str, dict[str, int] | None] = {}
    try:
        for i in range(args.runs + 1):  # the first round warms caches and is dropped
            for name, cmd in commands.items():
                rid = run_once(cmd, env)
                if i == 0:
                    continue
                lat, open_ = phases(server, rid)
                if lat is not None:
                    latency[name].append(lat)
                if open_ is not None:
                    opening[name].append(open_)
        if not args.no_strace:
            counts = {name: fsyncs(cmd, env) for name, cmd in commands.items()}
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"endpoint {args.endpoint}, model time {args.run_time:g} s, {args.runs} runs each")
    for name in commands:
        lat, op = latency[name], opening[name]
        print(
            f"{name:<13} completion -> result median {statistics.median(lat) * 1000:6.2f} ms "
            f"(p90 {sorted(lat)[int(0.9 * (len(lat) - 1))] * 1000:.2f}, {spread(lat)}); "
            f"submit -> stream open {statistics.median(op) * 1000:6.2f} ms ({spread(op)})"
        )
    for name, count in counts.items():
        if count is None:
            print(f"{name:<13} fsync count: strace unavailable or failed")
        else:
            print(f"{name:<13} one run: {count['fsync']} fsync, {count['fdatasync']} fdatasync")
    goals = Goals("journal")
    goals.limit(
        "completion -> result fetched, median (journal on)",
        statistics.median(latency["journal"]) * 1000, 5.0, "ms",
    )  # fmt: skip
    goals.limit(
        "the journal's share of it (on - --no-history medians)",
        (statistics.median(latency["journal"]) - statistics.median(latency["--no-history"]))
        * 1000, 1.0, "ms", "a budget of this bench, not an issue goal",
    )  # fmt: skip
    journal_count = counts.get("journal")
    if journal_count is not None:
        bare = counts.get("--no-history") or {"fsync": 0, "fdatasync": 0}
        extra = sum(journal_count.values()) - sum(bare.values())
        goals.limit("fsync + fdatasync the journal adds to one run", extra, 5, "",
                    "submit row in a new WAL 3, checkpoint at exit 2; was 12")  # fmt: skip
    goals.report()


if __name__ == "__main__":
    main()
