"""The download path of big and many files: what makes it fast must not cost a guarantee."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from genmedia_download import sink

from .conftest import blob


def test_each_committed_files_directory_is_synced_outside_the_commit_lock(
    monkeypatch, put, result_for, finish, workdir
):
    """The directory fsync (the new name's durability) happens after the link, per file,
    and not while the commit lock is held: other workers commit meanwhile."""
    synced: list[tuple[Path, list[str], bool]] = []
    real_lock = threading.Lock
    locks: list[Any] = []

    def recording_lock() -> Any:
        lock = real_lock()
        locks.append(lock)
        return lock

    def record(directory: Path) -> None:
        held = any(lock.locked() for lock in locks)
        synced.append((directory, sorted(p.name for p in directory.iterdir()), held))

    monkeypatch.setattr(sink.threading, "Lock", recording_lock)
    monkeypatch.setattr(sink, "sync_directory", record)
    media = [
        {"url": put(blob(1000, seed=i), f"f{i}.bin"), "file_name": f"f{i}.bin"} for i in range(3)
    ]
    out = finish(result_for(media), download="out/", download_concurrency=1)
    assert out.exit_code == 0, out
    assert [d for d, _, _ in synced] == [workdir / "out"] * 3
    for n, (_, names, held) in enumerate(synced):
        assert f"f{n}.bin" in names  # synced after the file got its final name
        assert not held
