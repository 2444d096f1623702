"""End-to-end run time of ``genmedia run`` against the emulator, versus a minimal httpx script.

Usage::

    .venv/bin/python bench/e2e.py [--runs 15] [--endpoint fal-ai/flux/schnell]

Both sides run as fresh processes on the same interpreter, interleaved (A, B, A, B …), against
one emulator on 127.0.0.1 with zero queue and model time:

- **genmedia**: ``python -m genmedia run ENDPOINT --prompt … --download DIR --json`` (without
  ``--download`` if the download plugin is not installed);
- **baseline**: a minimal httpx script making the same calls — schema fetch
  (``GET /models?endpoint_id=…&expand=openapi-3.0``), submit, status stream until COMPLETED,
  result, and a plain GET of every image (only when genmedia downloads too);
- **minimal**: the same script without the schema fetch (what genmedia can match once its
  schema cache is warm).

Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX`` (as an installed wheel has it), and
the first round of runs is a warm-up. Printed: the median wall time of each with its spread,
genmedia's completion-to-result latency — the emulator's completion timestamp to the moment
it served the result GET — and each figure beside its goal (issue 14: ≤ 1.10× the baseline,
≤ 1.15× the minimal script with a warm schema cache, completion → result ≤ 5 ms median).
Nothing leaves 127.0.0.1.
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

from goals import Goals, spread

BASELINE = r"""
import json, sys, httpx
queue, api, endpoint, out_dir, download, schema = sys.argv[1:7]
key = {"Authorization": "Key sandbox-bench"}
app = "/".join(endpoint.split("/")[:2])
with httpx.Client(timeout=30) as c:
    if schema == "1":
        c.get(f"{api}/models", params={"endpoint_id": endpoint, "expand": "openapi-3.0"}).json()
    sub = c.post(f"{queue}/{endpoint}", json={"prompt": "a bench cat"}, headers=key).json()
    with c.stream("GET", sub["status_url"] + "/stream", params={"logs": "1"}, headers=key) as r:
        for line in r.iter_lines():
            if line.startswith("data:") and json.loads(line[5:])["status"] == "COMPLETED":
                break
    result = c.get(sub["response_url"], headers=key).json()
    if download == "1":
        for i, image in enumerate(result.get("images", [])):
            with c.stream("GET", image["url"]) as r, open(f"{out_dir}/{i}.img", "wb") as fh:
                for block in r.iter_bytes(1 << 16):
                    fh.write(block)
print(json.dumps({"request_id": sub["request_id"]}))
"""


def has_download(env: dict[str, str]) -> bool:
    proc = subprocess.run(
        [sys.executable, "-m", "genmedia", "run", "--help"], capture_output=True, text=True, env=env
    )
    return "--download" in proc.stdout


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    return elapsed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--endpoint", default="fal-ai/flux/schnell")
    parser.add_argument(
        "--disable-plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="Run genmedia without this plugin (repeatable), to attribute costs.",
    )
    args = parser.parse_args()

    from genmedia_sandbox.server import start_sandbox

    server = start_sandbox(queue_s=0.0, run_s=0.0)
    work = Path(tempfile.mkdtemp(prefix="genmedia-bench-"))
    env = dict(os.environ)
    env.update(server.env())
    env.update(
        FAL_KEY="sandbox-bench",
        GENMEDIA_HOME=str(work / "home"),
        GENMEDIA_NO_GALLERY="1",
    )
    # Compiled bytecode as an installed wheel has it (this checkout may run with
    # PYTHONDONTWRITEBYTECODE=1, which would make every genmedia import compile its source).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    download = has_download(env)
    script = work / "baseline.py"
    script.write_text(BASELINE)
    ours: list[float] = []
    theirs: list[float] = []
    minimal: list[float] = []
    latencies: list[float] = []
    try:
        for i in range(args.runs + 1):  # the first pair warms caches and is dropped
            out_a, out_b, out_c = work / f"a{i}", work / f"b{i}", work / f"c{i}"
            for out in (out_a, out_b, out_c):
                out.mkdir()
            cmd = [sys.executable, "-m", "genmedia"]
            cmd += [f"--disable-plugin={name}" for name in args.disable_plugin]
            cmd += ["run", args.endpoint]
            cmd += ["--prompt", "a bench cat", "--json"]
            if download:
                cmd += ["--download", str(out_a) + "/"]
            t_a, stdout = timed(cmd, env)
            rid = json.loads(stdout)["request_id"]
            base = [sys.executable, str(script), server.urls["queue"], server.urls["api"]]
            flag = "1" if download else "0"
            t_b, _ = timed([*base, args.endpoint, str(out_b), flag, "1"], env)
            t_c, _ = timed([*base, args.endpoint, str(out_c), flag, "0"], env)
            if i == 0:
                continue
            ours.append(t_a)
            theirs.append(t_b)
            minimal.append(t_c)
            done = server.completion_times.get(rid)
            fetched = [
                r.timestamp
                for r in server.requests
                if r.role == "queue" and r.method == "GET" and r.path.rstrip("/").endswith(rid)
            ]
            if done is not None and fetched:
                latencies.append(fetched[0] - done)
    finally:
        server.stop()

    med_a, med_b = statistics.median(ours), statistics.median(theirs)
    med_c = statistics.median(minimal)
    lat = statistics.median(latencies) * 1000 if latencies else float("nan")
    p90 = sorted(latencies)[int(0.9 * (len(latencies) - 1))] * 1000 if latencies else float("nan")
    print(f"endpoint: {args.endpoint}; runs: {args.runs} (interleaved, after 1 warm-up round)")
    if args.disable_plugin:
        print(f"genmedia plugins disabled: {', '.join(args.disable_plugin)}")
    print(f"download: {'yes (--download DIR/)' if download else 'no (--download not installed)'}")
    for name, med, samples in (
        ("genmedia run", med_a, ours),
        ("same-calls httpx script", med_b, theirs),
        ("minimal script (no schema)", med_c, minimal),
    ):
        print(f"{name:<28} median {med * 1000:8.1f} ms  (spread {spread(samples)})")
    print(f"completion->result latency median {lat:.1f} ms, p90 {p90:.1f} ms")
    goals = Goals("e2e")
    goals.check("run --download / same-calls httpx script", med_a / med_b, 1.10)
    goals.check(
        "run --download / minimal script without schema fetch",
        med_a / med_c,
        1.15,
        note="the goal assumes a warm schema cache",
    )
    goals.limit("completion -> result fetched, median", lat, 5.0, "ms")
    goals.report()


if __name__ == "__main__":
    main()
