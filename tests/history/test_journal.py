"""The journal itself: schema, migrations, upserts, queries, concurrency, failure modes."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from genmedia_history.database import use_wal
from genmedia_history.journal import (
    SCHEMA_VERSION,
    FileRecord,
    Journal,
    JournalError,
    Query,
    prompt_text,
    strip_media,
)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j" / "history.db", busy_timeout=5)


def add(journal: Journal, rid: str, endpoint: str = "fal-ai/flux/dev", **kw) -> int:
    return journal.record_job(provider="fal", endpoint_id=endpoint, request_id=rid, **kw)


def test_created_on_first_write_in_wal_with_schema_version(journal: Journal) -> None:
    assert not journal.exists
    assert journal.list(Query()) == []  # reading never creates the file
    assert journal.get("last") is None
    assert not journal.exists
    add(journal, "r1", input={"prompt": "a cat"})
    conn = sqlite3.connect(journal.path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"jobs", "files"} <= tables


def test_record_again_fills_gaps_but_keeps_input_and_status(journal: Journal) -> None:
    first = add(journal, "r1", input={"prompt": "a cat"}, submitted_at=1000.0)
    journal.update_status("fal", "r1", status="interrupted", error="Interrupted")
    # status REQUEST_ID --wait reattaches: no input, a fresh time
    again = add(journal, "r1", extra={"status_url": "https://q/status"}, submitted_at=2000.0)
    job = journal.get("r1")
    assert again == first and job is not None
    assert job.input == {"prompt": "a cat"} and job.prompt == "a cat"
    assert job.status == "interrupted" and job.error == "Interrupted"
    assert job.submitted_at == 1000.0
    assert job.extra == {"status_url": "https://q/status"}


def test_batch_is_recorded_once_and_filters(journal: Journal) -> None:
    add(journal, "r1", batch="b-1")
    add(journal, "r2")
    add(journal, "r2", batch="b-2")  # re-attached by a batch: the row learns its batch
    add(journal, "r1", batch="b-9")  # a row keeps the batch it was recorded with
    add(journal, "r3")
    assert [(j.request_id, j.batch) for j in journal.list(Query())] == [
        ("r3", None),
        ("r2", "b-2"),
        ("r1", "b-1"),
    ]
    assert [j.request_id for j in journal.list(Query(batch="b-1"))] == ["r1"]
    assert [j.request_id for j in journal.list(Query(batch="b-2", endpoint="fal-ai"))] == ["r2"]
    assert journal.list(Query(batch="b-9")) == [] and journal.list(Query(batch="")) == []


def test_finished_rows_ignore_later_state_changes(journal: Journal) -> None:
    add(journal, "r1")
    assert journal.update_status("fal", "r1", status="in_queue", host_status="IN_QUEUE")
    assert journal.complete("fal", "r1", result={"seed": 1})
    assert not journal.update_status("fal", "r1", status="timeout", error="late")
    job = journal.get("r1")
    assert job is not None and job.status == "completed" and job.error is None
    assert job.result == {"seed": 1} and job.completed_at is not None


def test_complete_records_files_and_merges_later_downloads(journal: Journal) -> None:
    add(journal, "r1")
    one = FileRecord(path="/out/a.png", url="https://cdn/a.png", sha256="aa", size_bytes=3)
    journal.complete("fal", "r1", result={"x": 1}, files=[one])
    two = FileRecord(path="/elsewhere/a.png", url="https://cdn/a.png", sha256="aa")
    journal.complete("fal", "r1", result={"x": 1}, files=[one, two])
    job = journal.get("r1")
    assert job is not None
    assert [f.path for f in job.files] == ["/out/a.png", "/elsewhere/a.png"]
    assert job.files[0].sha256 == "aa" and job.files[0].size_bytes == 3
    assert not journal.complete("fal", "unknown", result={})


def test_media_bytes_are_never_stored(journal: Journal) -> None:
    blob = "data:image/png;base64," + "A" * 5000
    add(journal, "r1", input={"prompt": "p", "image_url": blob})
    journal.complete("fal", "r1", result={"images": [{"url": blob}], "short": "data:,hi"})
    raw = b"".join(
        p.read_bytes() for p in journal.path.parent.iterdir() if p.name.startswith("history")
    )
    assert b"A" * 100 not in raw
    job = journal.get("r1")
    assert job is not None and job.input is not None and job.result is not None
    assert job.input["image_url"].startswith("data:image/png;<")
    assert job.result["short"] == "data:,hi"  # short strings are not media
    assert strip_media([{"a": blob}])[0]["a"] != blob


def test_prompt_text_picks_prompts_not_negative_prompts() -> None:
    assert prompt_text({"prompt": "a cat", "negative_prompt": "dogs", "seed": 1}) == "a cat"
    assert prompt_text({"text": "hello"}) == "hello"
    assert prompt_text({"style_prompt": "noir", "num": 2}) == "noir"
    assert prompt_text({}) is None and prompt_text(None) is None


def test_get_by_id_request_id_prefix_and_last(journal: Journal) -> None:
    first = add(journal, "0193aaaa-1111")
    add(journal, "0193bbbb-2222")
    add(journal, "0193bbbb-3333")
    assert journal.get(str(first)).request_id == "0193aaaa-1111"
    assert journal.get("0193aaaa-1111").id == first
    assert journal.get("0193aaaa").request_id == "0193aaaa-1111"
    assert journal.get("last").request_id == "0193bbbb-3333"
    assert journal.get("nope-nope") is None
    with pytest.raises(JournalError) as info:
        journal.get("0193bbbb")
    assert info.value.reason == "ambiguous"


def test_a_prefix_of_digits_is_a_request_id_prefix_too(journal: Journal) -> None:
    # time-ordered request ids often start with 8+ digits (and 2% of random uuid4s do):
    # such a prefix used to be read as a row id only, and the job was "unknown"
    first = add(journal, "12345678-aaaa")
    add(journal, "0193bbbb-2222")
    assert journal.get("12345678").request_id == "12345678-aaaa"
    assert journal.get(str(first)).request_id == "12345678-aaaa"  # a row id still works
    assert journal.get("000001").id == first  # a row id and a prefix of the same job


def test_digits_naming_a_row_id_and_another_jobs_prefix_are_ambiguous(journal: Journal) -> None:
    for n in range(1, 4):
        add(journal, f"r{n}")
    journal.record_job(provider="fal", endpoint_id="e", request_id="000002-other")
    with pytest.raises(JournalError) as info:
        journal.get("000002")  # row 2 (r2), and the start of 000002-other (row 4)
    assert info.value.reason == "ambiguous" and "job id 2" in str(info.value)
    assert journal.get("000002-other").request_id == "000002-other"  # in full: exact


def test_a_prefix_shared_by_two_providers_rows_and_a_third_id_is_ambiguous(
    journal: Journal,
) -> None:
    journal.record_job(provider="fal", endpoint_id="e", request_id="abcdef-1")
    journal.record_job(provider="other", endpoint_id="e", request_id="abcdef-2")
    journal.record_job(provider="fal", endpoint_id="e", request_id="abcdef-2")
    with pytest.raises(JournalError) as info:
        journal.get("abcdef")  # the two newest rows are one request id; a third is older
    assert info.value.reason == "ambiguous"
    assert journal.get("abcdef-2").provider == "fal"  # the newest row of that id


def test_list_filters(journal: Journal) -> None:
    now = time.time()
    add(
        journal,
        "a",
        "fal-ai/flux/dev",
        input={"prompt": "a red cat on a mat"},
        submitted_at=now - 3 * 86400,
    )
    add(journal, "b", "fal-ai/flux/schnell", input={"prompt": "a blue dog"}, submitted_at=now - 60)
    add(journal, "c", "fal-ai/veo3", input={"prompt": "100% red_fox"}, submitted_at=now - 30)
    journal.complete("fal", "a", result={})
    journal.update_status("fal", "b", status="interrupted")
    journal.update_status("fal", "c", status="failed", error="boom")

    def ids(**kw) -> list[str]:
        return [j.request_id for j in journal.list(Query(**kw))]

    assert ids() == ["c", "b", "a"]  # newest first
    assert ids(limit=2) == ["c", "b"]
    assert ids(endpoint="fal-ai/flux") == ["b", "a"]  # a prefix on a path boundary
    assert ids(endpoint="fal-ai/flux/dev") == ["a"]
    assert ids(endpoint="fal-ai/flu") == []
    assert ids(endpoint="*/veo*") == ["c"]
    assert ids(statuses=("pending",)) == ["b"]  # every unfinished state
    assert ids(statuses=("failed", "completed")) == ["c", "a"]
    assert ids(since=now - 3600) == ["c", "b"]
    assert ids(text="red") == ["c", "a"]
    assert ids(text="RED cat") == ["a"]  # every word, case-insensitive
    assert ids(text="100%") == ["c"] and ids(text="%") == ["c"]  # LIKE wildcards escaped
    assert ids(text="re_") == []  # not "red"
    assert ids(text="red", statuses=("pending",)) == []


def test_newer_schema_is_read_but_never_written(journal: Journal) -> None:
    add(journal, "r1")
    conn = sqlite3.connect(journal.path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    assert journal.get("r1") is not None
    with pytest.raises(JournalError) as info:
        add(journal, "r2")
    assert info.value.reason == "newer"


def test_corrupt_file_is_a_journal_error(journal: Journal) -> None:
    journal.path.parent.mkdir(parents=True)
    journal.path.write_bytes(b"this is not sqlite, just garbage " * 200)
    with pytest.raises(JournalError) as info:
        add(journal, "r1")
    assert info.value.reason == "corrupt"
    with pytest.raises(JournalError):
        journal.list(Query())


def test_locked_database_times_out_as_locked(journal: Journal) -> None:
    add(journal, "r1")
    holder = sqlite3.connect(journal.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        quick = Journal(journal.path, busy_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(JournalError) as info:
            quick.update_status("fal", "r1", status="in_queue")
        assert info.value.reason == "locked"
        assert time.monotonic() - started < 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()


class LockedSwitch:
    """A connection whose switch to WAL is refused ``locked`` times with SQLite's "database
    is locked" returned at once (two processes creating the journal: the one SQLite
    refuses without calling its busy handler, since waiting would deadlock)."""

    def __init__(self, locked: int, error: str = "database is locked") -> None:
        self.locked = locked
        self.error = error
        self.switches = 0

    def execute(self, sql: str) -> sqlite3.Cursor:
        if sql == "PRAGMA journal_mode = WAL":
            self.switches += 1
            if self.switches <= self.locked:
                raise sqlite3.OperationalError(self.error)
            sql = "SELECT 'wal'"
        elif sql == "PRAGMA journal_mode":
            sql = "SELECT 'delete'"
        return sqlite3.connect(":memory:").execute(sql)


def test_switching_a_new_journal_to_wal_retries_an_immediate_locked() -> None:
    conn = LockedSwitch(locked=3)
    use_wal(conn, busy_timeout=30)  # type: ignore[arg-type]
    assert conn.switches == 4
    always = LockedSwitch(locked=10**6)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(always, busy_timeout=0.05)  # type: ignore[arg-type]
    broken = LockedSwitch(locked=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="I/O"):
        use_wal(broken, busy_timeout=30)  # type: ignore[arg-type]
    assert broken.switches == 1  # only "locked" is retried


def _writer(path: str, worker: int, count: int, keep: bool) -> None:
    journal = Journal(Path(path), busy_timeout=30)
    if keep:  # one connection for all the writes, as a run has
        journal.keep_open()
    for i in range(count):
        rid = f"w{worker}-{i}"
        journal.record_job(
            provider="fal",
            endpoint_id="fal-ai/flux/dev",
            request_id=rid,
            input={"prompt": f"job {rid}"},
        )
        journal.update_status("fal", rid, status="in_progress", host_status="IN_PROGRESS")
        journal.complete(
            "fal",
            rid,
            result={"n": i},
            files=[FileRecord(path=f"/o/{rid}.png", url="https://c/x", sha256="0")],
        )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("keep", [False, True], ids=["per-operation", "kept-open"])
def test_many_processes_write_at_once(journal: Journal, keep: bool) -> None:
    """Six processes race to create the database and each records 15 jobs (about one
    race in 30 hit the immediate "locked" of the switch to WAL: see use_wal)."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(journal.path), w, 15, keep)) for w in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(50)
    assert [p.exitcode for p in procs] == [0] * 6
    jobs = journal.list(Query(limit=None))
    assert len(jobs) == 90
    assert {j.status for j in jobs} == {"completed"}
    assert all(len(j.files) == 1 for j in jobs)
