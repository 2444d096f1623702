"""Cold start of genmedia versus the click + pluggy import floor, in the same venv.

    python bench/startup.py [--runs 30]

Each command runs as a fresh process; the commands are interleaved (one run of each per
round) so that machine noise hits them alike. Prints the median wall time of each and
its ratio to the floor ``python -c "import click, pluggy"``. Target (issue #2):
``genmedia --help`` at most 1.3x the floor.
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
    for cmd in COMMANDS.values():  # warm the page cache, .pyc files and the plugin cache
        subprocess.run(cmd, capture_output=True, env=env, check=True)
    for _ in range(args.runs):
        for name, cmd in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, env=env, check=True)
            times[name].append(time.perf_counter() - start)
    floor = statistics.median(times["floor: python -c 'import click, pluggy'"])
    print(f"python {sys.version.split()[0]}, {args.runs} interleaved runs each")
    print(f"{'command':<44} {'median ms':>10} {'ratio to floor':>15}  spread")
    for name, samples in times.items():
        med = statistics.median(samples)
        print(f"{name:<44} {med * 1000:>10.1f} {med / floor:>15.2f}  {spread(samples)}")
    goals = Goals("startup")
    goals.check("genmedia --help / click+pluggy floor",
                statistics.median(times["genmedia --help"]) / floor, 1.2)  # fmt: skip
    goals.check("genmedia --version / click+pluggy floor",
                statistics.median(times["genmedia --version"]) / floor, 1.1)  # fmt: skip
    goals.report()


if __name__ == "__main__":
    main()
