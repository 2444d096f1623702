"""Where a big download's CPU goes: each part of genmedia's download path, measured alone.

    .venv/bin/python bench/download_cpu.py [--mib 512]

In one process, against the static server of ``bench/download.py`` (own process, 127.0.0.1),
it measures the CPU time (user + system, this process) of:

* reading the body through httpx ``iter_raw`` with httpcore's stock 64 KiB socket reads,
  then with genmedia's 256 KiB reads (``genmedia_download/readsize.py``);
* SHA-256 of the same number of bytes (``hashlib``, in memory);
* writing them to a file in 1 MiB blocks, then ``fsync``;

so the whole-process figures of ``bench/download.py`` can be read as a sum: start-up and
the result fetch (its ``--result`` row) + read + hash + write. The floor of genmedia's CPU
is that sum; curl pays only the read and the write.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(label: str, fn: Callable[[], None]) -> None:
    start_cpu, start = cpu(), time.perf_counter()
    fn()
    print(
        f"  {label:<48} cpu {cpu() - start_cpu:6.3f} s   wall {time.perf_counter() - start:6.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=512)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent / "plugins"))
    import httpcore
    import httpx

    from genmedia_download import readsize

    work = Path(tempfile.mkdtemp(prefix="genmedia-bench-cpu-"))
    files = work / "files"
    files.mkdir()
    block = os.urandom(1 << 20)
    with open(files / "big.bin", "wb") as fh:
        for _ in range(args.mib):
            fh.write(block)
    port_file = work / "port"
    server = subprocess.Popen(
        [sys.executable, str(HERE / "download.py"), "--serve", str(files), str(port_file), "0"]
    )
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port_file.read_text()}/files/big.bin"
        print(f"{args.mib} MiB, python {sys.version.split()[0]}, {os.cpu_count()} cpus")

        def read() -> None:
            with httpx.Client() as client, client.stream("GET", url) as response:
                for _chunk in response.iter_raw():
                    pass

        stock = httpcore.HTTP11Connection.READ_NUM_BYTES
        measure(f"read via httpx, {stock >> 10} KiB socket reads (stock)", read)
        readsize.apply()
        measure(f"read via httpx, {readsize.READ_BYTES >> 10} KiB socket reads (genmedia)", read)

        def digest() -> None:
            hasher = hashlib.sha256()
            for _ in range(args.mib):
                hasher.update(block)

        measure("sha256 (hashlib)", digest)

        def write() -> None:
            with open(work / "out.bin", "wb", buffering=0) as fh:
                for _ in range(args.mib):
                    fh.write(block)
                os.fsync(fh.fileno())

        measure("write 1 MiB blocks + fsync", write)
    finally:
        server.terminate()
        server.wait(5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
