"""Benchmark ``genmedia batch`` against an asyncio script using fal-client's async API, both
feeding the same served emulator on 127.0.0.1.

    .venv/bin/python bench/batch.py [--jobs 1000] [--concurrency 32] [--flat-jobs 10000]

The emulator runs in its own process (zero queue and model time, no concurrency limit),
serving HTTPS with a throwaway CA (fal-client insists on https; genmedia trusts the CA
through ``SSL_CERT_FILE`` like any other). Measured as fresh processes, one after the
other:

* **fal-client**: ``asyncio`` + ``fal_client.AsyncClient``: ``submit`` then
  ``handle.get()`` per job, ``--concurrency`` jobs at once (an ``asyncio.Semaphore``);
* **genmedia**: ``python -m genmedia batch jobs.jsonl --concurrency N --rate 0 --summary``
  — validation of every line first, the batch journal, the run journal (history) and the
  status stream per job included;
* **genmedia, --flat-jobs**: the same with ten times the jobs, for peak RSS only.

Printed: wall time, jobs/s, CPU time (user + system, ``os.wait4``) and peak RSS of each
child, then every figure beside its goal (issue 15: throughput ≥ 1.0× the fal-client
script, peak RSS ≤ 120 MiB and flat from 1,000 to 10,000 jobs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from goals import Goals

ENDPOINT = "fal-ai/flux/schnell"
KEY = "sandbox-bench:secret"

BASELINE = r"""
import asyncio, json, sys
import fal_client.client as fc

host, rest, cdn, jobs_file, concurrency = sys.argv[1:6]
fc.RUN_URL_FORMAT = f"https://{host}/run/"
fc.QUEUE_URL_FORMAT = f"https://{host}/queue/"
fc.REST_URL, fc.CDN_URL = rest, cdn


async def main():
    client = fc.AsyncClient(key=sys.argv[6])
    gate = asyncio.Semaphore(int(concurrency))
    jobs = [json.loads(line) for line in open(jobs_file)]

    async def one(job):
        async with gate:
            handle = await client.submit(job["endpoint_id"], arguments=job["input"])
            return await handle.get()

    results = await asyncio.gather(*(one(j) for j in jobs))
    assert len(results) == len(jobs) and all(r.get("images") for r in results)
    print(len(results))


asyncio.run(main())
"""


def serve(cert: str, port_file: str) -> None:
    """The emulator's process: HTTPS, zero timings, until killed."""
    from genmedia_sandbox.server import start_sandbox

    server = start_sandbox(queue_s=0.0, run_s=0.0, ssl_certfile=cert, validate_platform=False)
    server.register_key(KEY)
    Path(port_file).write_text(json.dumps({"base": server.base_url, "urls": server.urls}))
    while True:
        time.sleep(3600)


def measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system, ``os.wait4``), peak RSS (MiB) and stdout
    of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_file, err_file = proc.stdout, proc.stderr
    assert out_file is not None and err_file is not None
    out, err = out_file.read(), err_file.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"{argv[:5]} failed ({proc.returncode}):\n{out.decode()[-3000:]}\n"
            f"{err.decode()[-3000:]}"
        )
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.decode()


def write_jobs(path: Path, n: int) -> None:
    with path.open("w") as fh:
        for i in range(n):
            job = {"endpoint_id": ENDPOINT, "input": {"prompt": f"a cat, take {i}"}, "id": f"c{i}"}
            fh.write(json.dumps(job) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--flat-jobs", type=int, default=10000, help="0: skip the RSS run")
    parser.add_argument("--serve", nargs=2, metavar=("CERT", "PORT_FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    import trustme

    work = Path(tempfile.mkdtemp(prefix="genmedia-bench-batch-"))
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    pem, ca_file = work / "server.pem", work / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(ca_file))
    port_file = work / "server.json"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(pem), str(port_file)])
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline:
                raise SystemExit("the emulator did not start")
            time.sleep(0.05)
        report = bench(work, json.loads(port_file.read_text()), ca_file, args)
    finally:
        server.kill()
        server.wait(5)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))


def bench(work: Path, server: dict[str, Any], ca_file: Path, args: Any) -> list[dict[str, Any]]:
    base, urls = server["base"], server["urls"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAL_", "GENMEDIA_"))}
    env.update(SSL_CERT_FILE=str(ca_file), FAL_KEY=KEY, GENMEDIA_HOME=str(work / "home"))
    env.update({f"GENMEDIA_FAL_{role.upper()}_URL": url for role, url in urls.items()})
    env.setdefault("PYTHONPYCACHEPREFIX", str(work / "pycache"))
    jobs = work / "jobs.jsonl"
    write_jobs(jobs, args.jobs)
    host = base.removeprefix("https://")
    baseline = [sys.executable, "-c", BASELINE, host, urls["rest"], urls["cdn"], str(jobs),
                str(args.concurrency), KEY]  # fmt: skip
    genmedia = [sys.executable, "-m", "genmedia", "batch", str(jobs), "--concurrency",
                str(args.concurrency), "--rate", "0", "--summary"]  # fmt: skip
    print(f"{args.jobs} jobs, concurrency {args.concurrency}, zero model time", flush=True)
    rows: dict[str, tuple[float, float, float]] = {}
    print(f"{'':<30} {'wall':>8} {'jobs/s':>8} {'cpu':>8} {'peak RSS':>10}", flush=True)

    def row(name: str, n: int, wall: float, cpu: float, rss: float) -> None:
        rows[name] = (wall, cpu, rss)
        print(f"{name:<30} {wall:>7.2f}s {n / wall:>8.1f} {cpu:>7.2f}s {rss:>7.1f} MiB", flush=True)

    wall, cpu, rss, out = measured(baseline, env)
    row("fal-client (asyncio)", args.jobs, wall, cpu, rss)
    wall, cpu, rss, out = measured(genmedia, env)
    summary = json.loads(out)
    assert summary["counts"] == {"completed": args.jobs}, summary
    row("genmedia batch", args.jobs, wall, cpu, rss)
    if args.flat_jobs:
        big = work / "big.jsonl"
        write_jobs(big, args.flat_jobs)
        flat = [*genmedia[:4], str(big), *genmedia[5:]]
        wall, cpu, rss, out = measured(flat, env)
        assert json.loads(out)["counts"] == {"completed": args.flat_jobs}, out[-3000:]
        row(f"genmedia batch, {args.flat_jobs} jobs", args.flat_jobs, wall, cpu, rss)
    goals = Goals("batch")
    ours, theirs = rows["genmedia batch"], rows["fal-client (asyncio)"]
    goals.check(
        f"{args.jobs} jobs: genmedia time / fal-client time",
        ours[0] / theirs[0],
        1.0,
        note=f"{args.jobs / ours[0]:.1f} vs {args.jobs / theirs[0]:.1f} jobs/s",
    )
    goals.limit(f"{args.jobs} jobs: genmedia peak RSS", ours[2], 120.0, "MiB")
    if args.flat_jobs:
        big_rss = rows[f"genmedia batch, {args.flat_jobs} jobs"][2]
        goals.check(
            f"peak RSS, {args.flat_jobs} / {args.jobs} jobs (flat)",
            big_rss / ours[2],
            1.1,
            note=f"{big_rss:.1f} vs {ours[2]:.1f} MiB",
        )
    return goals.report()


if __name__ == "__main__":
    main()
