"""Benchmark ``genmedia upload`` of a big file against curl, to the same server on 127.0.0.1.

    .venv/bin/python bench/upload.py [--runs 5] [--mib 512]

The server is a small threaded HTTP/1.1 server in its own process that speaks the part of
fal's storage protocol genmedia uses (CDN token, multipart initiate, part PUTs, complete)
and accepts a plain ``PUT`` for curl. It reads every body in 1 MiB ``readinto`` calls and
discards it, checking only the byte count, so both clients meet the same, cheap receiver.

Measured, interleaved, as fresh processes:

* **curl**: ``curl -T FILE URL`` — one streamed PUT (``Expect:`` off so neither side waits
  for a ``100 Continue``);
* **genmedia**: ``python -m genmedia upload FILE --json`` — fal's multipart flow with its
  default part size (10 MiB) and concurrency (4);
* **genmedia, 1-byte file**: the same command on a 1-byte file: start-up, token and a
  single small POST — the fixed cost; ``upload phase`` = the difference.

Printed: median wall time, spread, CPU time (user + system of the child, from
``os.wait4``) and peak RSS of each, then every ratio beside its goal (issue 14: whole
process ≤ 1.2× curl, RSS flat in file size — checked against a run with a file a quarter
the size). Nothing leaves 127.0.0.1; the files live in a temporary directory that is
removed afterwards.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from goals import Goals, median, spread

READ = 1 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a reply's headers and body leave at once, as from a CDN
    base = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _drain(self) -> int:
        length = int(self.headers.get("content-length") or 0)
        buffer = bytearray(READ)
        view = memoryview(buffer)
        left = length
        while left > 0:
            n = self.rfile.readinto(view[: min(READ, left)])
            if not n:
                break
            left -= n
        return length - left

    def _json(self, body: dict[str, Any], status: int = 200, **headers: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self._drain()
        path = self.path.split("?", 1)[0]
        if path == "/storage/auth/token":
            return self._json(
                {"token": "t", "token_type": "Bearer", "base_url": self.base,
                 "expires_at": "2999-01-01T00:00:00Z"}
            )  # fmt: skip
        if path == "/files/upload":
            return self._json({"access_url": f"{self.base}/files/k/small"})
        if path == "/files/upload/multipart":
            return self._json({"access_url": f"{self.base}/files/k/big", "uploadId": "u"})
        if path.endswith("/complete"):
            return self._json({"access_url": f"{self.base}/files/k/big"})
        self.send_error(404)

    def do_PUT(self) -> None:
        got = self._drain()
        self._json({"received": got}, etag=f'"{got}"')


def serve(port_file: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code != 0:
        raise SystemExit(f"{argv[:5]} failed ({code}): {err[-2000:]} {out[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def make_file(path: Path, mib: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for _ in range(mib):
            fh.write(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="also print every sample as JSON")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the baseline")
    work = Path(tempfile.mkdtemp(prefix="genmedia-bench-up-"))
    print(f"preparing {args.mib} MiB under {work} ...", flush=True)
    big, quarter, tiny = work / "big.bin", work / "quarter.bin", work / "tiny.bin"
    make_file(big, args.mib)
    make_file(quarter, max(1, args.mib // 4))
    tiny.write_bytes(b"x")
    port_file = work / "port"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file)])
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline:
                raise SystemExit("the upload server did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port_file.read_text()}"
        report = bench(work, base, args.runs, args.mib, big, quarter, tiny)
    finally:
        server.terminate()
        server.wait(5)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))


def bench(
    work: Path, base: str, runs: int, mib: int, big: Path, quarter: Path, tiny: Path
) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed wheel: bytecode cached
    env.update(
        {
            "PYTHONPYCACHEPREFIX": str(work / "pyc"),
            "FAL_KEY": "bench-key",
            "GENMEDIA_FAL_REST_URL": base,
            "GENMEDIA_FAL_CDN_URL": base,
            "GENMEDIA_HOME": str(work / "home"),
            "GENMEDIA_NO_HISTORY": "1",
        }
    )
    genmedia = [sys.executable, "-m", "genmedia", "upload"]
    curl = ["curl", "-sSf", "-o", "/dev/null", "-H", "Expect:", "-T"]
    tools = {
        "curl": [*curl, str(big), f"{base}/curl/big.bin"],
        "genmedia": [*genmedia, str(big), "--json"],
        "genmedia, 1-byte file": [*genmedia, str(tiny), "--json"],
        "genmedia, file / 4": [*genmedia, str(quarter), "--json"],
    }
    samples: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "cpu": [], "rss": []} for name in tools
    }
    for argv in tools.values():  # warm-up: page cache, .pyc files, plugin cache
        run_child(argv, env)
    for _ in range(runs):
        for name, argv in tools.items():  # interleaved
            wall, cpu, rss = run_child(argv, env)
            samples[name]["wall"].append(wall)
            samples[name]["cpu"].append(cpu)
            samples[name]["rss"].append(rss / 1024)
    print(f"{mib} MiB upload, {runs} interleaved runs each (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus)")  # fmt: skip
    print(f"{'':<24} {'wall median':>11} {'spread':>24} {'cpu median':>10} {'peak RSS':>10}")
    for name, s in samples.items():
        print(f"{name:<24} {median(s['wall']):>10.3f}s {spread(s['wall']):>24} "
              f"{median(s['cpu']):>9.3f}s {max(s['rss']):>7.1f} MiB")  # fmt: skip
    med = {name: median(s["wall"]) for name, s in samples.items()}
    cpu = {name: median(s["cpu"]) for name, s in samples.items()}
    rss = {name: max(s["rss"]) for name, s in samples.items()}
    phase = med["genmedia"] - med["genmedia, 1-byte file"]
    goals = Goals("upload")
    goals.check(f"{mib} MiB upload, whole process / curl -T", med["genmedia"] / med["curl"], 1.2)
    goals.check(
        "peak RSS, full file / file / 4 (flat in size)",
        rss["genmedia"] / rss["genmedia, file / 4"],
        1.05,
        note=f"{rss['genmedia']:.1f} vs {rss['genmedia, file / 4']:.1f} MiB",
    )
    print(f"  (for reading: upload phase = whole − 1-byte run = {phase:.3f}s, "
          f"{phase / med['curl']:.2f}x curl; CPU {cpu['genmedia'] / cpu['curl']:.2f}x curl's)")  # fmt: skip
    return {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "mib": mib,
        "runs": runs,
        "samples": {
            name: {k: [round(v, 3) for v in values] for k, values in s.items()}
            for name, s in samples.items()
        },
        "upload_phase_s": round(phase, 3),
        "goals": goals.report(),
    }


if __name__ == "__main__":
    main()
