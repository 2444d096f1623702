"""Cold start of genmedia versus the click + pluggy import floor, in the same venv.

    python bench/startup.py [--runs 30]

Each command runs as a fresh process; the commands are interleaved (one run of each per
round) so that machine noise hits them alike. Prints the median wall time of each, its
CPU time (user + system, from the child's rusage: steadier than wall time on a shared
machine) and both ratios to the floor ``python -c "import click, pluggy"``. Goals
(issue 14), on wall time: ``genmedia --help`` at most 1.2x the floor, ``genmedia
--version`` at most 1.1x; the CPU ratios are printed beside them for reference.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from goals import Goals, spread

PY = sys.executable
# The console script pip installs (what users run), next to this interpreter.
GENMEDIA = str(Path(PY).parent / "genmedia")
COMMANDS = {
    "floor: python -c 'import click, pluggy'": [PY, "-c", "import click, pluggy"],
    "bare: python -c 'pass'": [PY, "-c", "pass"],
    "genmedia --version": [GENMEDIA, "--version"],
    "genmedia --help": [GENMEDIA, "--help"],
    "genmedia plugins --json": [GENMEDIA, "plugins", "--json"],
    "python -m genmedia --help": [PY, "-m", "genmedia", "--help"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    env = dict(os.environ)
    env.pop("GENMEDIA_SANDBOX", None)
    # Measure what an installed genmedia costs: bytecode cached (pip compiles wheels on
    # install). Some environments set PYTHONDONTWRITEBYTECODE, which would make every
    # run recompile the editable checkout's sources while click and pluggy stay cached.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="genmedia-bench-pyc-")
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for cmd in COMMANDS.values():  # warm the page cache, .pyc files and the plugin cache
        subprocess.run(cmd, capture_output=True, env=env, check=True)
    for _ in range(args.runs):
        for name, cmd in COMMANDS.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, env=env, check=True)
            times[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    floor_name = "floor: python -c 'import click, pluggy'"
    floor = statistics.median(times[floor_name])
    floor_cpu = statistics.median(cpu[floor_name])
    print(f"python {sys.version.split()[0]}, {args.runs} interleaved runs each")
    print(f"{'command':<36} {'wall ms':>8} {'ratio':>6} {'CPU ms':>7} {'ratio':>6}  wall spread")
    for name, samples in times.items():
        med, med_cpu = statistics.median(samples), statistics.median(cpu[name])
        print(
            f"{name:<36} {med * 1000:>8.1f} {med / floor:>6.2f} {med_cpu * 1000:>7.1f}"
            f" {med_cpu / floor_cpu:>6.2f}  {spread(samples)}"
        )
    goals = Goals("startup")
    for command, goal in (("genmedia --help", 1.2), ("genmedia --version", 1.1)):
        cpu_ratio = statistics.median(cpu[command]) / floor_cpu
        goals.check(f"{command} / click+pluggy floor", statistics.median(times[command]) / floor,
                    goal, f"CPU {cpu_ratio:.2f}x")  # fmt: skip
    goals.report()


if __name__ == "__main__":
    main()
