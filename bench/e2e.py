"""End-to-end run time of ``genmedia run`` against the emulator, versus a minimal httpx script.

Usage::

    .venv/bin/python bench/e2e.py [--runs 15] [--endpoint fal-ai/flux/schnell]

Both sides run as fresh processes on the same interpreter, interleaved (A, B, A, B …), against
one emulator on 127.0.0.1 with zero queue and model time:

- **genmedia, cold schema**: ``python -m genmedia run ENDPOINT --prompt … --download DIR
  --json --refresh-schema`` (without ``--download`` if the download plugin is not
  installed): it fetches the schema, as the baseline does;
- **baseline**: a minimal httpx script making the same calls — schema fetch
  (``GET /models?endpoint_id=…&expand=openapi-3.0``), submit, status stream until COMPLETED,
  result, and a plain GET of every image (only when genmedia downloads too);
- **genmedia, warm schema**: the same command without ``--refresh-schema``: the schema
  comes from the on-disk cache (warmed by the first round), no schema request;
- **minimal**: the script without the schema fetch: submit, status stream, result, images.

The four run in turn (cold, baseline, warm, minimal) in every round.

Bytecode is cached in a temporary ``PYTHONPYCACHEPREFIX`` (as an installed wheel has it), and
the first round of runs is a warm-up. Printed: the median wall time of each with its spread,
genmedia's completion-to-result latency — the emulator's completion timestamp to the moment
it served the result GET — and each figure beside its goal (issue 14: cold ≤ 1.10× the
baseline, warm ≤ 1.15× the minimal script, completion → result ≤ 5 ms median).
``--profile DIR`` also writes a cProfile of one warm genmedia run and ``-X importtime`` of
another into DIR (outside the timed rounds).
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import itertools
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


#: CPU seconds (user + system) of every timed process, by the command's first argument
#: after the interpreter (genmedia's ``-m`` or the script's path) and its ``--refresh-schema``.
CPU: dict[str, list[float]] = {}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str, float, float]:
    """(seconds, stdout, wall-clock start, wall-clock end) of one process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.time()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    kind = "genmedia" if cmd[1] == "-m" else f"script {cmd[-1]}"
    kind += " cold" if "--refresh-schema" in cmd else ""
    CPU.setdefault(kind, []).append(cpu)
    return elapsed, proc.stdout, wall, wall + elapsed


#: the phases of one run, between the points the emulator's request log shows.
PHASES = (
    "start -> first request (imports, set-up)",
    "first request -> submit (schema, checks)",
    "submit -> status stream open",
    "completion -> result GET",
    "result GET -> first image GET",
    "first image GET -> exit (download, sinks, output)",
)


def phases(server: object, rid: str, start: float, end: float) -> list[float] | None:
    """Milliseconds spent in each of :data:`PHASES` by the process that ran ``rid``."""
    seen = [r for r in server.requests if start <= r.timestamp <= end]  # type: ignore[attr-defined]
    done = server.completion_times.get(rid)  # type: ignore[attr-defined]

    def first(test: object) -> float | None:
        return next((r.timestamp for r in seen if test(r)), None)  # type: ignore[operator]

    points = [
        start,
        first(lambda r: r.role != "control"),
        first(lambda r: r.role == "queue" and r.method == "POST"),
        first(lambda r: r.role == "queue" and r.path.endswith("/status/stream")),
        done,
        first(
            lambda r: r.role == "queue" and r.method == "GET" and r.path.rstrip("/").endswith(rid)
        ),
        first(lambda r: r.role == "cdn" and r.method == "GET"),
        end,
    ]
    if any(p is None for p in points):
        return None
    out = [(b - a) * 1000 for a, b in itertools.pairwise(points)]  # type: ignore[operator]
    del out[3]  # stream open -> completion is the emulator's time, not the client's
    return out


def completion_to_result(server: object, rid: str) -> float | None:
    """Seconds from the job's completion to the emulator serving its result GET."""
    done = server.completion_times.get(rid)  # type: ignore[attr-defined]
    fetched = [
        r.timestamp
        for r in server.requests  # type: ignore[attr-defined]
        if r.role == "queue" and r.method == "GET" and r.path.rstrip("/").endswith(rid)
    ]
    return fetched[0] - done if done is not None and fetched else None


def profile(directory: Path, cmd: list[str], env: dict[str, str]) -> None:
    """cProfile and ``-X importtime`` of one warm run each (not part of the timings)."""
    directory.mkdir(parents=True, exist_ok=True)
    (Path(cmd[-1]) if cmd[-2] == "--download" else directory).mkdir(exist_ok=True)
    prof = [cmd[0], "-m", "cProfile", "-o", str(directory / "run.prof"), *cmd[1:]]
    subprocess.run(prof, capture_output=True, env=env, check=True)
    proc = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True, env=env
    )
    (directory / "importtime.txt").write_text(proc.stderr)
    print(f"profiles written to {directory} (run.prof, importtime.txt)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--endpoint", default="fal-ai/flux/schnell")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="Also write run.prof (cProfile) and importtime.txt of a warm run into DIR.",
    )
    parser.add_argument(
        "--no-httpx-cli",
        action="store_true",
        help="genmedia processes only: import httpx without its command-line module (what "
        "issue 14 item 4 does), to see which part of the gap that import is.",
    )
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
    genmedia_env = dict(env)
    if args.no_httpx_cli:
        shim = work / "no-httpx-cli"
        shim.mkdir()
        (shim / "sitecustomize.py").write_text('import sys\nsys.modules["httpx._main"] = None\n')
        genmedia_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(shim), env.get("PYTHONPATH", "")) if p
        )
    script = work / "baseline.py"
    script.write_text(BASELINE)
    ours: list[float] = []
    warm: list[float] = []
    theirs: list[float] = []
    minimal: list[float] = []
    latencies: list[float] = []
    split: dict[str, list[list[float]]] = {"cold": [], "warm": [], "minimal": []}
    try:
        for i in range(args.runs + 1):  # the first pair warms caches and is dropped
            outs = [work / f"{side}{i}" for side in "abcd"]
            for out in outs:
                out.mkdir()

            def genmedia(out: Path, *extra: str) -> list[str]:
                cmd = [sys.executable, "-m", "genmedia"]
                cmd += [f"--disable-plugin={name}" for name in args.disable_plugin]
                cmd += ["run", args.endpoint, "--prompt", "a bench cat", "--json", *extra]
                return cmd + (["--download", str(out) + "/"] if download else [])

            base = [sys.executable, str(script), server.urls["queue"], server.urls["api"]]
            flag = "1" if download else "0"
            t_a, stdout, a0, a1 = timed(genmedia(outs[0], "--refresh-schema"), genmedia_env)
            t_b, _, *_ = timed([*base, args.endpoint, str(outs[1]), flag, "1"], env)
            t_w, stdout_w, w0, w1 = timed(genmedia(outs[2]), genmedia_env)
            t_c, stdout_c, c0, c1 = timed([*base, args.endpoint, str(outs[3]), flag, "0"], env)
            if i == 0:
                continue
            for key, doc, t0, t1 in (
                ("cold", stdout, a0, a1),
                ("warm", stdout_w, w0, w1),
                ("minimal", stdout_c, c0, c1),
            ):
                found = phases(server, json.loads(doc)["request_id"], t0, t1)
                if found is not None:
                    split[key].append(found)
            ours.append(t_a)
            theirs.append(t_b)
            warm.append(t_w)
            minimal.append(t_c)
            for out_doc in (stdout, stdout_w):
                latency = completion_to_result(server, json.loads(out_doc)["request_id"])
                if latency is not None:
                    latencies.append(latency)
        if args.profile:
            profile(args.profile, genmedia(work / "profile"), env)
    finally:
        server.stop()

    med_a, med_b = statistics.median(ours), statistics.median(theirs)
    med_w, med_c = statistics.median(warm), statistics.median(minimal)
    lat = statistics.median(latencies) * 1000 if latencies else float("nan")
    p90 = sorted(latencies)[int(0.9 * (len(latencies) - 1))] * 1000 if latencies else float("nan")
    print(f"endpoint: {args.endpoint}; runs: {args.runs} (interleaved, after 1 warm-up round)")
    if args.disable_plugin:
        print(f"genmedia plugins disabled: {', '.join(args.disable_plugin)}")
    if args.no_httpx_cli:
        print("genmedia imports httpx without httpx._main (--no-httpx-cli)")
    print(f"download: {'yes (--download DIR/)' if download else 'no (--download not installed)'}")
    for name, med, samples in (
        ("genmedia run, cold schema", med_a, ours),
        ("same-calls httpx script", med_b, theirs),
        ("genmedia run, warm schema", med_w, warm),
        ("minimal script (no schema)", med_c, minimal),
    ):
        print(f"{name:<28} median {med * 1000:8.1f} ms  (spread {spread(samples)})")
    cpu = {k: statistics.median(v[1:]) * 1000 for k, v in CPU.items() if len(v) > 1}
    if len(cpu) == 4:
        print(
            f"CPU (user+sys) medians: genmedia cold {cpu['genmedia cold']:.0f} ms / same-calls "
            f"script {cpu['script 1']:.0f} ms = {cpu['genmedia cold'] / cpu['script 1']:.2f}x; "
            f"genmedia warm {cpu['genmedia']:.0f} ms / minimal script {cpu['script 0']:.0f} ms"
            f" = {cpu['genmedia'] / cpu['script 0']:.2f}x"
        )
    paired_cold = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    paired_warm = statistics.median(a / b for a, b in zip(warm, minimal, strict=True))
    print(
        f"paired ratios (median of per-round ratios): cold {paired_cold:.3f}, warm {paired_warm:.3f}"
    )
    print(f"completion->result latency median {lat:.1f} ms, p90 {p90:.1f} ms")
    if all(split.values()):
        print("\nwhere the time goes (median ms per phase, from the emulator's request log):")
        print(f"  {'phase':<50} {'cold':>7} {'warm':>7} {'script':>7} {'warm-script':>11}")
        for n, name in enumerate(PHASES):
            cold_ms, warm_ms, script_ms = (
                statistics.median(row[n] for row in split[key])
                for key in ("cold", "warm", "minimal")
            )
            print(
                f"  {name:<50} {cold_ms:7.1f} {warm_ms:7.1f} {script_ms:7.1f} "
                f"{warm_ms - script_ms:+11.1f}"
            )
        print("  (cold: --refresh-schema; script: the minimal script, which fetches no schema)")
    goals = Goals("e2e")
    goals.check(
        "run --download, schema fetched / same-calls httpx script",
        med_a / med_b,
        1.10,
        note="--refresh-schema",
    )
    goals.check(
        "run --download, warm schema cache / minimal script",
        med_w / med_c,
        1.15,
        note="submit, status stream, result, images",
    )
    goals.limit("completion -> result fetched, median", lat, 5.0, "ms")
    goals.report()


if __name__ == "__main__":
    main()
