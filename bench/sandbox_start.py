"""How long the in-process fal emulator takes to start (target: < 0.5 s).

Usage: ``python bench/sandbox_start.py [N]`` (default N = 7).

- cold: a fresh interpreter imports genmedia_sandbox + uvicorn + starlette and starts a
  server until it accepts connections (what ``genmedia --sandbox`` pays), median of N;
- warm: a second and later start inside one process (what a test session pays per
  ``fresh_fal_sandbox``), median of N.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    c, w = cold(n), warm(n)
    print(f"sandbox start, cold (new process, imports included): median {statistics.median(c):.3f} s "
          f"(min {min(c):.3f}, max {max(c):.3f}, n={n})")  # fmt: skip
    print(f"sandbox start, warm (already imported):              median {statistics.median(w):.3f} s "
          f"(min {min(w):.3f}, max {max(w):.3f}, n={n})")  # fmt: skip
    print("target: < 0.500 s", "OK" if statistics.median(c) < 0.5 else "MISSED")


if __name__ == "__main__":
    main()
