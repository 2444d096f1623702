"""What the on-disk schema cache saves: ``run ENDPOINT --help`` and ``schema`` cold vs warm.

Usage::

    .venv/bin/python bench/schema_cache.py [--runs 15] [--endpoint fal-ai/flux/schnell]

Fresh processes against one emulator on 127.0.0.1, interleaved in every round:

- **cold**: ``genmedia run ENDPOINT --help --json --refresh-schema`` (fetches the schema);
- **warm**: ``genmedia run ENDPOINT --help --json`` (reads it from the cache);
- **schema, warm**: ``genmedia schema ENDPOINT --json``;

then, with the emulator stopped, **offline**: ``run ENDPOINT --help --json`` from the cache.
Each process's schema requests are counted in the emulator's request log: a warm one makes
none (the goal line). Bytecode is cached as in bench/e2e.py; the first round is a warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from goals import Goals, spread


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    return elapsed


def schema_requests(server: object) -> int:
    return sum(
        1
        for r in server.requests  # type: ignore[attr-defined]
        if r.role == "api" and "openapi-3.0" in r.query
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--endpoint", default="fal-ai/flux/schnell")
    args = parser.parse_args()

    from genmedia_sandbox.server import start_sandbox

    server = start_sandbox(queue_s=0.0, run_s=0.0)
    work = Path(tempfile.mkdtemp(prefix="genmedia-bench-"))
    env = dict(os.environ)
    env.update(server.env())
    env.update(FAL_KEY="sandbox-bench", GENMEDIA_HOME=str(work / "home"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    genmedia = [sys.executable, "-m", "genmedia"]
    help_cmd = [*genmedia, "run", args.endpoint, "--help", "--json"]
    samples: dict[str, list[float]] = {"cold": [], "warm": [], "schema": [], "offline": []}
    warm_fetches = 0
    try:
        for i in range(args.runs + 1):
            cold = timed([*help_cmd, "--refresh-schema"], env)
            before = schema_requests(server)
            warm = timed(help_cmd, env)
            schema = timed([*genmedia, "schema", args.endpoint, "--json"], env)
            warm_fetches += schema_requests(server) - before
            if i:
                samples["cold"].append(cold)
                samples["warm"].append(warm)
                samples["schema"].append(schema)
    finally:
        server.stop()
    for i in range(args.runs + 1):
        offline = timed(help_cmd, env)
        if i:
            samples["offline"].append(offline)

    print(f"endpoint: {args.endpoint}; runs: {args.runs} (interleaved, after 1 warm-up round)")
    labels = {
        "cold": "run ENDPOINT --help --refresh-schema",
        "warm": "run ENDPOINT --help, cache warm",
        "schema": "schema ENDPOINT, cache warm",
        "offline": "run ENDPOINT --help, emulator stopped",
    }
    for key, label in labels.items():
        med = statistics.median(samples[key])
        print(f"{label:<40} median {med * 1000:7.1f} ms  (spread {spread(samples[key])})")
    saved = statistics.median(samples["cold"]) - statistics.median(samples["warm"])
    print(f"the cache saves {saved * 1000:.1f} ms per command (one schema request and its parse)")
    goals = Goals("schema_cache")
    goals.limit("schema requests made by warm processes", warm_fetches, 0, "requests")
    goals.report()


if __name__ == "__main__":
    main()
