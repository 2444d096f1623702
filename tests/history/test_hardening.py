"""Issue 10: a damaged row never breaks the journal's commands, a journal that cannot be
written is still listed (opened read-only), and the journal is private (0600 in 0700)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCHNELL = "fal-ai/flux/schnell"


def journal_path(isolated_env: Path) -> Path:
    return isolated_env / "data" / "history.db"


def run_two(cli) -> list[str]:
    ids = []
    for prompt in ("first", "second"):
        result = cli("run", SCHNELL, "--prompt", prompt, "--json")
        assert result.exit_code == 0, result
        ids.append(result.json["request_id"])
    return ids


def test_a_damaged_row_is_skipped_and_flagged(cli, fal_sandbox_env, isolated_env):
    first, second = run_two(cli)
    with sqlite3.connect(journal_path(isolated_env)) as conn:
        conn.execute("UPDATE jobs SET submitted_at = 'not a time' WHERE request_id = ?", (first,))
    listed = cli("history", "list", "--json")
    assert listed.exit_code == 0, listed
    assert [job["request_id"] for job in listed.json["jobs"]] == [second]
    [skipped] = listed.json["skipped_rows"]
    assert skipped["request_id"] == first and skipped["reason"]
    assert any("damaged journal row" in w for w in listed.json["warnings"])
    shown = cli("history", "show", first, "--json")
    assert shown.exit_code == 1, shown
    assert "damaged" in shown.error["error"] and "Internal error" not in shown.stderr
    assert cli("history", "show", second, "--json").exit_code == 0


@pytest.fixture
def read_only_place(tmp_path: Path) -> Iterator[Path]:
    """A directory nothing can be written to: a read-only tmpfs mount when running as
    root (permissions do not stop root), else a 0555 directory."""
    place = tmp_path / "ro"
    place.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mount = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m", "genmedia-test", str(place)],
            capture_output=True,
        )
        if mount.returncode != 0:
            pytest.skip("running as root without permission to mount a read-only tmpfs")
        mounted = True
    yield place
    if mounted:
        subprocess.run(["umount", "-l", str(place)], check=False)
    else:
        place.chmod(0o755)


def seal(place: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(place)], check=True)
    else:
        for path in place.iterdir():
            path.chmod(0o444)
        place.chmod(0o555)


def test_a_read_only_journal_is_listed(cli, fal_sandbox_env, isolated_env, read_only_place):
    from genmedia.config import write_config_file

    first, second = run_two(cli)
    db = read_only_place / "history.db"
    shutil.copy(journal_path(isolated_env), db)  # the runs closed it: no -wal left
    seal(read_only_place)
    config = isolated_env / "config" / "config.json"
    write_config_file(config, {"plugins": {"history": {"path": str(db)}}})
    listed = cli("history", "list", "--json")
    assert listed.exit_code == 0, listed
    assert [job["request_id"] for job in listed.json["jobs"]] == [second, first]
    shown = cli("history", "show", first, "--json")
    assert shown.exit_code == 0, shown
    assert sorted(p.name for p in read_only_place.iterdir()) == ["history.db"]


def test_the_journal_is_private(cli, fal_sandbox_env, isolated_env):
    run_two(cli)
    db = journal_path(isolated_env)
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    from genmedia_history.journal import Journal

    with Journal(db).connect(write=True) as conn:
        conn.execute("UPDATE jobs SET updated_at = updated_at")
        sides = [Path(f"{db}{s}") for s in ("-wal", "-shm") if Path(f"{db}{s}").exists()]
        assert sides
        for side in sides:
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, side


def test_an_existing_world_readable_journal_is_tightened(cli, fal_sandbox_env, isolated_env):
    run_two(cli)
    db = journal_path(isolated_env)
    db.chmod(0o644)
    assert cli("run", SCHNELL, "--prompt", "third", "--json").exit_code == 0
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_odd_references_are_not_found_not_internal_errors(cli, fal_sandbox_env):
    run_two(cli)  # found by the fuzzer: a 5,000-digit reference was an internal error
    for reference in ("9" * 5000, "9" * 19, "²", "٣"):
        shown = cli("history", "show", reference, "--json")
        assert shown.exit_code == 4, shown
