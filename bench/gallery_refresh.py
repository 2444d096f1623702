"""Does ``plugins.gallery.auto_refresh`` slow ``genmedia run``?

Runs ``python -m genmedia run ENDPOINT --prompt … --json`` against the in-process fal
emulator, alternating two homes: one with ``{"plugins": {"gallery": {"auto_refresh":
true}}}`` in its config, one without. Reported: the median wall time of each (the run the
user waits for), their difference, and the median time until the refreshed gallery is on
disk after the run returned (the background build).

Three measurements:

* **settled**: runs alternate off/on; after each "on" run the refresh is allowed to finish
  (its ``index.html`` changes) so no background build competes with a timed run. This is
  the cost on the run path itself: wall time, and the CPU time of the run process (from
  ``wait4``; far less sensitive to other load, and the detached build is not part of it).
* **back to back**: ten "off" runs, then ten "on" runs, without waiting: each background
  build competes for the CPU with the next run, as in a script firing runs in a loop.
* **the sink alone**: the in-process time of the refresh hook (spawning the detached
  build), timed around the call.

Run: ``.venv/bin/python bench/gallery_refresh.py [--runs 15]``. Nothing leaves 127.0.0.1;
the homes live in a temporary directory removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENDPOINT = "fal-ai/flux/schnell"


#: CPU seconds (user + system) of each timed run, by home name: unlike wall time, barely
#: moved by other load on the machine, and the detached build is not counted in it.
CPU: dict[str, list[float]] = {"off": [], "on": []}


def timed(cmd: list[str], env: dict[str, str], name: str | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"run failed: {proc.stderr.read() if proc.stderr else ''}")
    if name is not None:
        CPU[name].append(usage.ru_utime + usage.ru_stime)
    return elapsed


def mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def wait_changed(path: Path, before: float, timeout: float = 30.0) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if mtime(path) != before:
            return time.perf_counter() - start
        time.sleep(0.005)
    return None


def settled(cmd, envs, index, runs):
    times: dict[str, list[float]] = {"off": [], "on": []}
    built: list[float] = []
    for _ in range(runs):
        for name in ("off", "on"):
            before = mtime(index)
            times[name].append(timed(cmd, envs[name], name))
            if name == "on":
                took = wait_changed(index, before)
                if took is not None:
                    built.append(took)
    return times, built


def back_to_back(cmd, envs, runs):
    times: dict[str, list[float]] = {"off": [], "on": []}
    for name in ("off", "on"):
        for _ in range(runs):
            times[name].append(timed(cmd, envs[name]))
        time.sleep(2)  # let the last background builds end before the next block
    return times, []


def sink_cost(env, index, runs):
    """Time ``refresh_in_background`` in this process, as the run's sink calls it."""
    os.environ.update(env)
    from genmedia.context import AppContext
    from genmedia_gallery.refresh import refresh_in_background

    ctx = AppContext()
    costs = []
    for _ in range(runs):
        before = mtime(index)
        start = time.perf_counter()
        refresh_in_background(ctx)
        costs.append(time.perf_counter() - start)
        wait_changed(index, before)
    return costs


def report(title, measured):
    times, built = measured
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(f"\n{title} ({len(times['off'])} runs each)")
    print(f"  auto_refresh off: {off * 1000:7.1f} ms median run")
    print(f"  auto_refresh on:  {on * 1000:7.1f} ms median run")
    print(f"  difference:       {(on - off) * 1000:+7.1f} ms ({(on / off - 1) * 100:+.1f} %)")
    if built:
        print(f"  gallery on disk {statistics.median(built) * 1000:.0f} ms after the run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from genmedia_sandbox.server import start_sandbox

    server = start_sandbox(queue_s=0.0, run_s=0.0)
    tmp = tempfile.TemporaryDirectory(prefix="genmedia-bench-gallery-", ignore_cleanup_errors=True)
    work = Path(tmp.name)
    envs: dict[str, dict[str, str]] = {}
    for name, refresh in (("off", False), ("on", True)):
        home = work / name
        (home / "config").mkdir(parents=True)
        if refresh:
            config = {"plugins": {"gallery": {"auto_refresh": True}}}
            (home / "config" / "config.json").write_text(json.dumps(config))
            (home / "config" / "config.json").chmod(0o600)
        env = dict(os.environ)
        env.update(server.env())
        env.update(FAL_KEY="sandbox-bench-key", GENMEDIA_HOME=str(home), GENMEDIA_OUTPUT="json")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        envs[name] = env
    index = work / "on" / "data" / "gallery" / "index.html"
    cmd = [sys.executable, "-m", "genmedia", "run", ENDPOINT, "--prompt", "a lighthouse"]
    try:
        for env in envs.values():  # warm-up: caches, bytecode, the journal's creation
            timed(cmd, env)
        wait_changed(index, 0)
        report("settled", settled(cmd, envs, index, args.runs))
        off_cpu, on_cpu = statistics.median(CPU["off"]), statistics.median(CPU["on"])
        print(
            f"  CPU time of the run: off {off_cpu * 1e3:.1f} ms, on {on_cpu * 1e3:.1f} ms, "
            f"difference {(on_cpu - off_cpu) * 1e3:+.1f} ms"
        )
        report("back to back", back_to_back(cmd, envs, args.runs))
        sink = sink_cost(envs["on"], index, args.runs)
        print(
            f"\nthe sink alone: {statistics.median(sink) * 1e3:.2f} ms median "
            f"(max {max(sink) * 1e3:.2f} ms) to spawn the background build"
        )
        wait_changed(index, mtime(index), timeout=10)
    finally:
        server.stop()
        tmp.cleanup()


if __name__ == "__main__":
    main()
