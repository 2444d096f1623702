"""Benchmark ``--download`` against curl on 127.0.0.1.

Two cases, each run through the real CLI (``python -m genmedia status ENDPOINT ID
--download DIR``) and through curl, interleaved, ``--runs`` times each:

* **big**: one 512 MiB file, versus ``curl -o F && sync F`` (the same durability: genmedia
  fsyncs before it renames), with plain ``curl -o F`` for reference; genmedia also fetches a
  file a quarter the size, to show that its peak RSS does not grow with the file;
* **many**: 50 files of 200 KB, each answered after 50 ms of added latency, versus
  ``curl --parallel --parallel-max 4`` (genmedia's default concurrency is 4 too).

The server is a small static file server started in its own process (``sendfile``,
HTTP/1.1 keep-alive). It also answers the fal queue's result route
(``GET /queue/<owner>/<app>/requests/<id>``) with a result listing the files, so genmedia
runs its real path: result fetch → download sink (streaming, SHA-256, fsync, rename).

Reported per case and tool: the median wall time and its spread, CPU time (user + system,
children included) and peak RSS (``ru_maxrss``), both from ``os.wait4``; then each ratio of
issue 14 beside its goal and whether it is met (``bench/goals.py``). Because genmedia is a Python process that also
fetches the result, the script measures that fixed cost separately
(``status ... --result``, same process, no download) and reports the *download phase*
= wall(``--download``) − wall(``--result``) as well as the end-to-end figure.

Run: ``.venv/bin/python bench/download.py [--runs 5] [--big-mib 512]`` (bytecode cached in a
temporary ``PYTHONPYCACHEPREFIX``, as an installed wheel has it). Nothing leaves
127.0.0.1; files are written under a temporary directory that is removed afterwards.
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

ENDPOINT = "fal-ai/flux/schnell"
MANY = 50
MANY_SIZE = 200_000
LATENCY_S = 0.050
CONCURRENCY = 4


# --------------------------------------------------------------------------- server


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, as from a real CDN
    root: Path = Path(".")
    base: str = ""
    big_size: int = 0

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/queue/"):
            return self._result(path.rsplit("/", 1)[1])
        if path.startswith("/files/"):
            return self._file(path[len("/files/") :])
        self.send_error(404)

    def _result(self, request_id: str) -> None:
        if request_id in ("big", "quarter"):
            name, size = f"{request_id}.bin", self.big_size // (4 if request_id == "quarter" else 1)
            body: dict[str, Any] = {
                "images": [{"url": f"{self.base}/files/{name}", "file_name": name,
                            "content_type": "application/octet-stream", "file_size": size}]
            }  # fmt: skip
        else:
            body = {
                "images": [
                    {"url": f"{self.base}/files/small{i:02d}.bin", "file_name": f"small{i:02d}.bin",
                     "file_size": MANY_SIZE}
                    for i in range(MANY)
                ]
            }  # fmt: skip
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-fal-request-id", request_id)
        self.end_headers()
        self.wfile.write(data)

    def _file(self, name: str) -> None:
        file = self.root / os.path.basename(name)
        if not file.is_file():
            self.send_error(404)
            return
        if name.startswith("small"):
            time.sleep(LATENCY_S)
        size = file.stat().st_size
        self.send_response(200)
        self.send_header("content-type", "application/octet-stream")
        self.send_header("content-length", str(size))
        self.send_header("etag", f'"{size}-{int(file.stat().st_mtime)}"')
        self.send_header("accept-ranges", "bytes")
        self.end_headers()
        with open(file, "rb") as fh:
            self.request.sendfile(fh)


def serve(root: str, port_file: str, big_size: int) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Handler.root = Path(root)
    Handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    Handler.big_size = big_size
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


# --------------------------------------------------------------------------- measuring


def run_child(argv: list[str], *, env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, its children included) and peak RSS (KiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:6]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def make_files(root: Path, big_mib: int) -> None:
    block = os.urandom(1 << 20)
    for name, mib in (("big.bin", big_mib), ("quarter.bin", big_mib // 4)):
        with open(root / name, "wb") as fh:
            for _ in range(mib):
                fh.write(block)
    for i in range(MANY):
        (root / f"small{i:02d}.bin").write_bytes(os.urandom(MANY_SIZE))


def fresh(directory: Path) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def fmt_rss(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument(
        "--serve", nargs=3, metavar=("ROOT", "PORT_FILE", "BIG_SIZE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--json", action="store_true", help="also print every sample as JSON")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the baseline")
    work = Path(tempfile.mkdtemp(prefix="genmedia-bench-"))
    files = work / "files"
    files.mkdir()
    print(
        f"preparing {args.big_mib} MiB + {MANY} x {MANY_SIZE // 1000} KB under {work} ...",
        flush=True,
    )
    make_files(files, args.big_mib)
    port_file = work / "port"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(files), str(port_file), str(args.big_mib << 20)]
    )
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline:
                raise SystemExit("the static server did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port_file.read_text()}"
        report = bench(work, base, args.runs, args.big_mib)
    finally:
        server.terminate()
        server.wait(5)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))


def bench(work: Path, base: str, runs: int, big_mib: int) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed wheel: bytecode cached
    env.update(
        {
            "PYTHONPYCACHEPREFIX": str(work / "pyc"),
            "FAL_KEY": "sandbox-bench-key",
            "GENMEDIA_FAL_QUEUE_URL": f"{base}/queue",
            "GENMEDIA_HOME": str(work / "home"),
            "GENMEDIA_NO_HISTORY": "1",
            "GENMEDIA_OUTPUT": "json",
        }
    )
    python = [sys.executable, "-m", "genmedia", "status", ENDPOINT]
    out = work / "out"
    small_urls = [f"{base}/files/small{i:02d}.bin" for i in range(MANY)]
    curl_many = ["curl", "-sSf", "--parallel", "--parallel-max", str(CONCURRENCY)]
    for url in small_urls:
        curl_many += ["-o", f"{out}/{url.rsplit('/', 1)[1]}", url]
    big_file = f"{out}/big.bin"
    commands = {
        "big": {
            # the baseline of the goal: the same durability as genmedia's fsync before rename
            "curl -o F && sync F": [
                "sh",
                "-c",
                f'curl -sSf -o "{big_file}" "{base}/files/big.bin" && sync "{big_file}"',
            ],
            "curl -o F": ["curl", "-sSf", "-o", big_file, f"{base}/files/big.bin"],
            "genmedia": [*python, "big", "--download", f"{out}/"],
            "genmedia, file / 4": [*python, "quarter", "--download", f"{out}/"],
            "genmedia --result only": [*python, "big", "--result"],
        },
        "many": {
            "curl --parallel": curl_many,
            "genmedia": [*python, "many", "--download", f"{out}/"],
            "genmedia --result only": [*python, "many", "--result"],
        },
    }
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "runs": runs,
    }
    goals = Goals("download")
    for case, tools in commands.items():
        walls: dict[str, list[float]] = {name: [] for name in tools}
        cpus: dict[str, list[float]] = {name: [] for name in tools}
        rss: dict[str, int] = {name: 0 for name in tools}
        for argv in tools.values():  # warm-up (page cache, .pyc files)
            fresh(out)
            run_child(argv, env=env, cwd=work)
        for _ in range(runs):
            for name, argv in tools.items():  # interleaved
                fresh(out)
                wall, cpu, peak = run_child(argv, env=env, cwd=work)
                walls[name].append(wall)
                cpus[name].append(cpu)
                rss[name] = max(rss[name], peak)
        med = {name: median(values) for name, values in walls.items()}
        cpu = {name: median(values) for name, values in cpus.items()}
        fixed = med["genmedia --result only"]
        print(f"\n{case}: {runs} interleaved runs each")
        print(f"  {'':<26} {'wall median':>11} {'spread':>24} {'cpu median':>10} {'peak RSS':>10}")
        for name in tools:
            print(f"  {name:<26} {med[name]:>10.3f}s {spread(walls[name]):>24} "
                  f"{cpu[name]:>9.3f}s {fmt_rss(rss[name]):>10}")  # fmt: skip
        row: dict[str, Any] = {
            name: {"median_s": round(med[name], 3), "cpu_median_s": round(cpu[name], 3),
                   "peak_rss": fmt_rss(rss[name]), "runs_s": [round(w, 3) for w in walls[name]]}
            for name in tools
        }  # fmt: skip
        phase = med["genmedia"] - fixed
        row["genmedia_download_phase_s"] = round(phase, 3)
        if case == "big":
            base_wall, base_cpu = med["curl -o F && sync F"], cpu["curl -o F && sync F"]
            goals.check(f"{big_mib} MiB, whole process / curl -o F && sync F",
                        med["genmedia"] / base_wall, 1.15)  # fmt: skip
            goals.check(f"{big_mib} MiB, CPU / curl -o F && sync F's CPU",
                        cpu["genmedia"] / base_cpu, 1.5,
                        note=f"{cpu['genmedia']:.2f} vs {base_cpu:.2f} s")  # fmt: skip
            goals.check(f"{big_mib} MiB, peak RSS / 48 MiB", rss["genmedia"] / 1024 / 48, 1.0,
                        note=fmt_rss(rss["genmedia"]))  # fmt: skip
            goals.check("peak RSS, full file / file / 4 (flat in size)",
                        rss["genmedia"] / max(1, rss["genmedia, file / 4"]), 1.05,
                        note=f"{fmt_rss(rss['genmedia'])} vs {fmt_rss(rss['genmedia, file / 4'])}")  # fmt: skip
            print(f"  (for reading: download phase = whole − --result = {phase:.3f}s, "
                  f"{phase / base_wall:.2f}x curl -o F && sync F, {phase / med['curl -o F']:.2f}x "
                  f"curl -o F; {big_mib * 1.048576 / max(phase, 1e-9):.0f} MB/s)")  # fmt: skip
        else:
            goals.check(f"{MANY} x {MANY_SIZE // 1000} KB, whole process / curl --parallel",
                        med["genmedia"] / med["curl --parallel"], 1.15,
                        note=f"{CONCURRENCY} at a time each")  # fmt: skip
            print(f"  (for reading: download phase = whole − --result = {phase:.3f}s, "
                  f"{phase / med['curl --parallel']:.2f}x curl --parallel)")  # fmt: skip
        report[case] = row
    report["goals"] = goals.report()
    return report


if __name__ == "__main__":
    main()
