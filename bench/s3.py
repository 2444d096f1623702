"""Benchmark ``--save-to s3://…`` (genmedia-s3) against a minimal boto3 script.

One job on the fal emulator returns a 512 MiB output (the emulator's ``large_output``
fault). Two child processes copy that CDN response into a local S3 server (moto's server
mode with IAM auth, as in tests/s3), in the same run:

* **genmedia**: ``python -m genmedia status ENDPOINT ID --save-to s3://bench/g/{index}.{ext}``
  — the real CLI path: result fetch, then the sink's streaming multipart upload;
* **boto3**: a minimal script that streams the same CDN URL with httpx into
  ``s3.upload_fileobj`` (s3transfer: 8 MiB parts, up to 10 threads).

Reported: wall time and peak RSS (``ru_maxrss`` of each child, from ``os.wait4``), the
ratio of the walls, and the goals: genmedia's peak RSS ≤ 64 MiB and its wall ≤ 1.2 × the
boto3 script's. It is heavy (1 GiB through two local servers): run it once, e.g.
``.venv/bin/python bench/s3.py`` (``--runs N`` alternates the two N times and reports
medians). Needs genmedia-s3 with its test extra installed. Nothing leaves 127.0.0.1.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from goals import Goals, spread  # noqa: E402  (bench/goals.py: the shared report format)

from tests.s3.motoserver import start as start_s3  # noqa: E402

ENDPOINT = "fal-ai/flux/schnell"
RSS_GOAL_MIB = 64
WALL_GOAL = 1.2

BASELINE = r"""
import sys
import boto3
import httpx

url, bucket, key, endpoint = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


class Stream:
    def __init__(self, chunks):
        self.chunks = chunks
        self.buf = bytearray()

    def read(self, n=-1):
        while n < 0 or len(self.buf) < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buf += chunk
        if n < 0:
            n = len(self.buf)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


with httpx.Client(timeout=60) as http, http.stream("GET", url) as response:
    response.raise_for_status()
    s3.upload_fileobj(Stream(response.iter_raw(256 * 1024)), bucket, key)
"""


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out.decode()


def start_emulator(mib: int, env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    fault = f"large_output:mib={mib},role=queue,method=POST"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genmedia",
            "sandbox",
            "serve",
            "--run-time",
            "0",
            "--queue-time",
            "0",
        ],
        env={**env, "GENMEDIA_SANDBOX_FAULTS": fault},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["env"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=512, help="size of the output (MiB)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each (alternating)")
    parser.add_argument(
        "--s3-config",
        default="{}",
        help="genmedia's plugins.s3 config, e.g. '{\"concurrency\": 2}'",
    )
    parser.add_argument("--profile", help="write a cProfile of the genmedia child here")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="genmedia-bench-s3-")
    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GENMEDIA_", "FAL_"))
    }
    base_env.update(GENMEDIA_HOME=home, GENMEDIA_NO_HISTORY="1", FAL_KEY="bench-key")
    config = Path(home, "config", "config.json")
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"plugins": {"s3": json.loads(args.s3_config)}}))
    config.chmod(0o600)
    s3 = start_s3()
    emulator, fal_env = start_emulator(args.mib, base_env)
    try:
        env = dict(base_env, **fal_env)
        env.update(
            AWS_ACCESS_KEY_ID=s3.access_key,
            AWS_SECRET_ACCESS_KEY=s3.secret_key,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL_S3=s3.endpoint,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=os.path.join(home, "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, "aws-credentials"),
        )
        client = s3.client()
        client.create_bucket(Bucket="bench")
        submitted = subprocess.run(
            [sys.executable, "-m", "genmedia", "run", ENDPOINT, "--prompt", "bench", "--async",
             "--json"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        request_id = json.loads(submitted.stdout)["request_id"]
        result = subprocess.run(
            [sys.executable, "-m", "genmedia", "status", ENDPOINT, request_id, "--result", "--json"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        url = json.loads(result.stdout)["result"]["images"][0]["url"]

        walls: dict[str, list[float]] = {"genmedia": [], "boto3": []}
        peaks: dict[str, list[float]] = {"genmedia": [], "boto3": []}
        for n in range(args.runs):
            order = ["boto3", "genmedia"] if n % 2 == 0 else ["genmedia", "boto3"]
            for tool in order:
                if tool == "genmedia":
                    prof = ["-m", "cProfile", "-o", args.profile] if args.profile else []
                    argv = [sys.executable, *prof, "-m", "genmedia", "status", ENDPOINT, request_id,
                            "--save-to", f"s3://bench/g{n}/{{index}}.{{ext}}", "--json"]  # fmt: skip
                    key = f"g{n}/0.jpg"
                else:
                    key = f"b{n}/0.jpg"
                    argv = [sys.executable, "-c", BASELINE, url, "bench", key, s3.endpoint]
                wall, peak, _out = run_child(argv, env)
                size = client.head_object(Bucket="bench", Key=key)["ContentLength"]
                if size != args.mib * 1024 * 1024:
                    raise SystemExit(f"{tool}: object is {size} bytes, not {args.mib} MiB")
                walls[tool].append(wall)
                peaks[tool].append(peak)
                print(f"  run {n + 1} {tool:8} wall {wall:6.2f} s  peak RSS {peak:6.1f} MiB")
                client.delete_object(Bucket="bench", Key=key)
    finally:
        emulator.terminate()
        emulator.wait(10)
        s3.stop()

    g_wall, b_wall = statistics.median(walls["genmedia"]), statistics.median(walls["boto3"])
    g_peak, b_peak = max(peaks["genmedia"]), max(peaks["boto3"])
    print(f"\n{args.mib} MiB from the emulator's CDN to a local S3 server ({args.runs} run(s)):")
    print(f"  genmedia --save-to   wall {g_wall:6.2f} s ({spread(walls['genmedia'])})")
    print(f"  boto3 upload_fileobj wall {b_wall:6.2f} s ({spread(walls['boto3'])})")
    print(f"  peak RSS genmedia {g_peak:.1f} MiB, boto3 {b_peak:.1f} MiB\n")
    goals = Goals("s3")
    goals.check(f"{args.mib} MiB, whole process / boto3 upload_fileobj", g_wall / b_wall, WALL_GOAL)
    goals.limit(f"{args.mib} MiB, peak RSS", g_peak, RSS_GOAL_MIB, "MiB")
    goals.report()


if __name__ == "__main__":
    main()
