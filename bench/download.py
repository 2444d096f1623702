"""Benchmark ``--download`` against curl on 127.0.0.1.

Two cases, each run through the real CLI (``python -m genmedia status ENDPOINT ID
--download DIR``) and through curl, interleaved, ``--runs`` times each:

* **big**: one 512 MiB file, versus ``curl -o``;
* **many**: 50 files of 200 KB, each answered after 50 ms of added latency, versus
  ``curl --parallel --parallel-max 4`` (genmedia's default concurrency is 4 too).

The server is a small static file server started in its own process (``sendfile``,
HTTP/1.1 keep-alive). It also answers the fal queue's result route
(``GET /queue/<owner>/<app>/requests/<id>``) with a result listing the files, so genmedia
runs its real path: result fetch → download sink (streaming, SHA-256, fsync, rename).

Reported per case and tool: the median wall time, peak RSS (``ru_maxrss`` of the child,
from ``os.wait4``), and ratios to curl. Because genmedia is a Python process that also
fetches the result, the script measures that fixed cost separately
(``status ... --result``, same process, no download) and reports the *download phase*
= wall(``--download``) − wall(``--result``) as well as the end-to-end figure.

Run: ``.venv/bin/python bench/download.py [--runs 5] [--big-mib 512]``. Nothing leaves
127.0.0.1; files are written under a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENDPOINT = "fal-ai/flux/schnell"
MANY = 50
MANY_SIZE = 200_000
LATENCY_S = 0.050
CONCURRENCY = 4


# --------------------------------------------------------------------------- server


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
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
        if request_id == "big":
            body: dict[str, Any] = {
                "images": [{"url": f"{self.base}/files/big.bin", "file_name": "big.bin",
                            "content_type": "application/octet-stream", "file_size": self.big_size}]
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


def run_child(argv: list[str], *, env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
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
    return wall, usage.ru_maxrss


def make_files(root: Path, big_mib: int) -> None:
    block = os.urandom(1 << 20)
    with open(root / "big.bin", "wb") as fh:
        for _ in range(big_mib):
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
    print(json.dumps(report, indent=2))


def bench(work: Path, base: str, runs: int, big_mib: int) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(
        {
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
    commands = {
        "big": {
            "curl": ["curl", "-sSf", "-o", f"{out}/big.bin", f"{base}/files/big.bin"],
            # the same work genmedia does (hash + durable write), for reference
            "curl+sha256sum+sync": [
                "sh",
                "-c",
                f'curl -sSf -o "{out}/big.bin" "{base}/files/big.bin" && '
                f'sha256sum "{out}/big.bin" >/dev/null && sync "{out}/big.bin"',
            ],
            "genmedia": [*python, "big", "--download", f"{out}/"],
            "genmedia --result only": [*python, "big", "--result"],
        },
        "many": {
            "curl": curl_many,
            "genmedia": [*python, "many", "--download", f"{out}/"],
            "genmedia --result only": [*python, "many", "--result"],
        },
    }
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "runs": runs,
    }
    for case, tools in commands.items():
        walls: dict[str, list[float]] = {name: [] for name in tools}
        rss: dict[str, int] = {name: 0 for name in tools}
        for argv in tools.values():  # warm-up (page cache, .pyc files)
            fresh(out)
            run_child(argv, env=env, cwd=work)
        for _ in range(runs):
            for name, argv in tools.items():  # interleaved
                fresh(out)
                wall, peak = run_child(argv, env=env, cwd=work)
                walls[name].append(wall)
                rss[name] = max(rss[name], peak)
        med = {name: statistics.median(values) for name, values in walls.items()}
        fixed = med["genmedia --result only"]
        row: dict[str, Any] = {
            name: {"median_s": round(med[name], 3), "peak_rss": fmt_rss(rss[name]),
                   "runs_s": [round(w, 3) for w in walls[name]]}
            for name in tools
        }  # fmt: skip
        row["ratio_end_to_end"] = round(med["genmedia"] / med["curl"], 3)
        row["genmedia_download_phase_s"] = round(med["genmedia"] - fixed, 3)
        row["ratio_download_phase"] = round((med["genmedia"] - fixed) / med["curl"], 3)
        if "curl+sha256sum+sync" in med:
            ref = med["curl+sha256sum+sync"]
            row["ratio_download_phase_vs_curl_sha256sum_sync"] = round(
                (med["genmedia"] - fixed) / ref, 3
            )
        if case == "big":
            row["throughput_MBps"] = {
                "curl": round(big_mib * 1.048576 / med["curl"], 1),
                "genmedia_download_phase": round(
                    big_mib * 1.048576 / max(1e-9, med["genmedia"] - fixed), 1
                ),
            }
        report[case] = row
        print(f"{case}: curl {med['curl']:.3f}s ({fmt_rss(rss['curl'])}), genmedia {med['genmedia']:.3f}s "
              f"({fmt_rss(rss['genmedia'])}), fixed cost {fixed:.3f}s; end-to-end x{row['ratio_end_to_end']}, "
              f"download phase x{row['ratio_download_phase']}"
              + (f" (x{row['ratio_download_phase_vs_curl_sha256sum_sync']} vs curl+sha256sum+sync "
                 f"{med['curl+sha256sum+sync']:.3f}s)" if "curl+sha256sum+sync" in med else ""),
              flush=True)  # fmt: skip
    return report


if __name__ == "__main__":
    main()
