"""What the in-process fal emulator costs: its start, and a whole ``--sandbox`` command.

Usage: ``python bench/sandbox_start.py [N]`` (default N = 7).

- cold: a fresh interpreter imports genmedia_sandbox + uvicorn + starlette and starts a
  server until it accepts connections (what ``genmedia --sandbox`` pays at its first request
  to the emulator; a command that makes none never starts it), median of N;
- warm: a second and later start inside one process (what a test session pays per
  ``fresh_fal_sandbox``), median of N;
- commands (issue 14, item 8): ``genmedia --sandbox run ENDPOINT --prompt … --json`` and
  ``genmedia --sandbox run ENDPOINT --help`` as fresh processes, interleaved with the same
  commands against an emulator served by this script with ``genmedia sandbox serve``'s
  defaults, so both wait for the same model run (goal: within 1.5x);
- ``genmedia --sandbox history --json``, which never talks to the emulator, against plain
  ``genmedia history --json``: the emulator starts at the first connection, so this
  command should not pay for it (goal: within 1.5x).

Each figure is printed beside its goal (``bench/goals.py``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from goals import Goals, spread

ENDPOINT = "fal-ai/flux/schnell"

COLD = """
import time
t = time.perf_counter()
from genmedia_sandbox.server import start_sandbox
server = start_sandbox()
print(time.perf_counter() - t)
server.stop()
"""


def cold(n: int) -> list[float]:
    out = []
    for _ in range(n):
        proc = subprocess.run(
            [sys.executable, "-c", COLD], capture_output=True, text=True, check=True
        )
        out.append(float(proc.stdout.strip().splitlines()[-1]))
    return out


def warm(n: int) -> list[float]:
    from genmedia_sandbox.server import start_sandbox

    start_sandbox().stop()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        server = start_sandbox()
        out.append(time.perf_counter() - t)
        server.stop()
    return out


def commands(n: int) -> dict[str, list[float]]:
    """Wall seconds of each command, ``--sandbox`` and served, interleaved, after a warm-up."""
    from genmedia_sandbox.server import start_sandbox

    # the served emulator keeps `genmedia sandbox serve`'s defaults (the same queue clock
    # as `--sandbox`: no queue, 0.2 s of run time), so both sides wait for the same job
    server = start_sandbox()
    work = tempfile.mkdtemp(prefix="genmedia-bench-sb-")
    base = dict(os.environ)
    base.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as an installed wheel has it
    base.update(
        PYTHONPYCACHEPREFIX=f"{work}/pyc", GENMEDIA_HOME=f"{work}/home", FAL_KEY="sandbox-bench"
    )
    served = {**base, **server.env()}
    genmedia = [sys.executable, "-m", "genmedia"]
    run = ["run", ENDPOINT, "--prompt", "a bench cat", "--json"]
    cases = {
        "--sandbox run --json": ([*genmedia, "--sandbox", *run], base),
        "served: run --json": ([*genmedia, *run], served),
        "--sandbox run ENDPOINT --help": ([*genmedia, "--sandbox", "run", ENDPOINT, "--help"], base),
        "served: run ENDPOINT --help": ([*genmedia, "run", ENDPOINT, "--help"], served),
        "--sandbox history --json": ([*genmedia, "--sandbox", "history", "--json"], base),
        "history --json": ([*genmedia, "history", "--json"], base),
    }  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for i in range(n + 1):  # the first round warms caches and is dropped
            for name, (argv, env) in cases.items():
                start = time.perf_counter()
                subprocess.run(argv, env=env, capture_output=True, check=True)
                if i:
                    times[name].append(time.perf_counter() - start)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    c, w = cold(n), warm(n)
    print(f"sandbox start, cold (new process, imports included): median {statistics.median(c):.3f} s "
          f"(spread {spread(c)})")  # fmt: skip
    print(f"sandbox start, warm (already imported):              median {statistics.median(w):.3f} s "
          f"(spread {spread(w)})")  # fmt: skip
    times = commands(n)
    med = {name: statistics.median(samples) for name, samples in times.items()}
    for name, samples in times.items():
        print(f"{name:<32} median {med[name]:.3f} s (spread {spread(samples)})")
    goals = Goals("sandbox")
    goals.limit("sandbox start, cold, median", statistics.median(c), 0.5, "s")
    goals.check("--sandbox run --json / same against a served emulator",
                med["--sandbox run --json"] / med["served: run --json"], 1.5)  # fmt: skip
    goals.check("--sandbox run ENDPOINT --help / served",
                med["--sandbox run ENDPOINT --help"] / med["served: run ENDPOINT --help"], 1.5)  # fmt: skip
    goals.check("--sandbox history --json / without --sandbox",
                med["--sandbox history --json"] / med["history --json"], 1.5)  # fmt: skip
    goals.report()


if __name__ == "__main__":
    main()
