"""The ``--download`` output sink: plan names, fetch in parallel, commit, report.

:func:`download_result` is what the plugin's ``genmedia_handle_result`` calls. It returns
``{"downloaded_files": [SavedFile…]}`` (sorted by walk index, i.e. ``images[2]`` before
``images[10]`` — upstream sorts the json_path strings; walk order is the order the model
returned its outputs), plus ``"download_failures"`` and ``"exit_code": 9`` when any file
could not be saved.

Workers are daemon threads pulling from one queue, sharing the process's keep-alive
client. Each file is written to a part file of its own (unique to this process and this
file) and committed under a final name claimed at commit time, so several genmedia
processes can download into one directory at once. Ctrl-C — or any other exception in
the main thread, such as the ``SystemExit`` a SIGTERM/SIGHUP handler raises — stops the
workers (each deletes its own part file between two chunks), waits a moment, deletes
whatever part file a stuck worker still owns, and re-raises so the core exits as it must.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from genmedia import errors
from genmedia.context import AppContext
from genmedia.media import seed_of
from genmedia.types import RunResult, SavedFile, SaveFailure

from . import fetch as fetching
from .commit import commit, sync_directory
from .fetch import Cancelled, fetch
from .formats import corrected_ext, sniff
from .naming import Namer, NamingError, Target, split_ext
from .parts import DownloadFailed, new_part_path, unlink_quietly
from .sidecar import sidecar_path

if TYPE_CHECKING:  # pragma: no cover
    from genmedia.progress import ProgressFn

DEFAULT_CONCURRENCY = 4
#: how long Ctrl-C waits for workers to clean up before removing their files itself.
CANCEL_GRACE_S = 2.0


@attrs.define(eq=False)
class _Job:
    target: Target
    part: Path | None = None
    outcome: SavedFile | SaveFailure | None = None
    extra_failure: SaveFailure | None = None


class _Progress:
    """Per-file bars plus a total, fed from worker threads (a no-op off a TTY)."""

    def __init__(self, add_task: Callable[[str], Any] | None) -> None:
        self._add = add_task
        self._lock = threading.Lock()
        self._done: dict[int, int] = {}
        self._sizes: dict[int, int | None] = {}
        self._total = add_task("total") if add_task is not None else None

    def for_file(self, index: int, label: str, size: int | None) -> ProgressFn | None:
        if self._add is None:
            return None
        bar = self._add(label)
        with self._lock:
            self._sizes[index] = size

        def update(done: int, total: int | None) -> None:
            bar(done, total)
            with self._lock:
                self._done[index] = done
                if total is not None:
                    self._sizes[index] = total
                known = [s for s in self._sizes.values() if s is not None]
                whole = sum(known) if len(known) == len(self._sizes) else None
                moved = sum(self._done.values())
            if self._total is not None:
                self._total(moved, whole)

        return update


def download_result(
    ctx: AppContext, result: RunResult, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Save every media reference of ``result`` as ``options`` say (see module doc)."""
    template = options.get("download")
    template = "." if template in (None, "") else str(template)
    overwrite = bool(options.get("overwrite"))
    keep_partial = bool(options.get("keep_partial"))
    sidecar = bool(options.get("sidecar"))
    concurrency = int(options.get("download_concurrency") or DEFAULT_CONCURRENCY)
    namer = Namer(
        template,
        request_id=result.request_id,
        endpoint_id=result.endpoint_id,
        seed=seed_of(result.result, result.input),
        overwrite=overwrite,
        sidecar=sidecar,
    )
    jobs: list[_Job] = []
    failures: list[tuple[int, SaveFailure]] = []
    for ref in result.media():
        try:
            jobs.append(_Job(namer.plan(ref)))
        except NamingError as exc:
            failures.append((ref.index, SaveFailure(ref.url, ref.json_path, str(exc))))
    if jobs:
        _run_jobs(ctx, result, jobs, namer, concurrency, keep_partial, sidecar, overwrite, template)
    saved: list[tuple[int, SavedFile]] = []
    for job in jobs:
        index = job.target.ref.index
        if isinstance(job.outcome, SavedFile):
            saved.append((index, job.outcome))
        elif isinstance(job.outcome, SaveFailure):
            failures.append((index, job.outcome))
        if job.extra_failure is not None:
            failures.append((index, job.extra_failure))
    files = [f for _, f in sorted(saved, key=_first)]
    failed = [f for _, f in sorted(failures, key=_first)]
    # The typed channel for later sinks and the pretty view; the JSON keys are ours.
    result.saved_files.extend(files)
    result.save_failures.extend(failed)
    out: dict[str, Any] = {"downloaded_files": files}
    if failed:
        out["download_failures"] = failed
        out["exit_code"] = errors.EXIT_SAVE
    return out


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def _run_jobs(
    ctx: AppContext,
    result: RunResult,
    jobs: list[_Job],
    namer: Namer,
    concurrency: int,
    keep_partial: bool,
    sidecar: bool,
    overwrite: bool,
    template: str,
) -> None:
    from genmedia.progress import multi_progress, wants_progress

    from .readsize import apply as read_in_big_blocks

    read_in_big_blocks()  # 256 KiB socket reads (see readsize.py); stock 64 KiB if unavailable
    client = ctx.http  # created here, in the main thread, before any worker starts
    cancel = threading.Event()
    commit_lock = threading.Lock()
    pending: queue.SimpleQueue[_Job] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    finished = threading.Semaphore(0)
    verbose = ctx.debug or not ctx.json_mode

    def work(progress: _Progress) -> None:
        while not cancel.is_set():
            try:
                job = pending.get_nowait()
            except queue.Empty:
                return
            try:
                _one(job, progress)
            except Cancelled:
                job.outcome = SaveFailure(
                    job.target.ref.url, job.target.ref.json_path, "interrupted"
                )
            except BaseException as exc:
                if job.outcome is None:
                    ref = job.target.ref
                    job.outcome = SaveFailure(ref.url, ref.json_path, _message(exc))
            finally:
                finished.release()

    def _one(job: _Job, progress: _Progress) -> None:
        target, ref = job.target, job.target.ref
        path = target.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            namer.check_inside(path)
        except OSError as exc:
            raise DownloadFailed(f"cannot create {path.parent}: {exc.strerror or exc}") from None
        job.part = new_part_path(path)

        def on_retry(attempt: int, delay: float, reason: str) -> None:
            if verbose:
                ctx.warn(
                    f"download of {ref.json_path}: {reason}; retry {attempt} in {delay:.1f}s",
                    once=False,
                )

        fetched = fetch(
            client,
            ref.url,
            job.part,
            file_size=ref.file_size,
            keep_partial=keep_partial,
            cancel=cancel,
            progress=progress.for_file(ref.index, path.name, ref.file_size),
            on_retry=on_retry,
            policy=fetching.POLICY,
        )
        sniffed = sniff(fetched.head)
        final = path
        try:
            if target.ext_derived:
                better = corrected_ext(split_ext(path.name)[1], sniffed)
                if better is not None:
                    final = namer.retarget(target, better)
                    namer.check_inside(final)
            with commit_lock:
                if cancel.is_set():
                    raise Cancelled()
                # the final name is claimed here, against other processes too: a name
                # taken since planning gets the next free suffix
                while not commit(
                    job.part, final, overwrite=overwrite, identity=fetched.identity, sync_dir=False
                ):
                    final = namer.reserve(final)
                job.part = None
            sync_directory(final.parent)  # outside the lock: other workers commit meanwhile
        except BaseException:
            if job.part is not None:
                _remove(job.part, keep=False)  # complete but unplaceable: nothing to resume
            raise
        content_type = sniffed.content_type if sniffed else fetched.content_type or ref.content_type
        job.outcome = SavedFile(
            url=ref.url,
            path=str(final),
            size_bytes=fetched.size,
            json_path=ref.json_path,
            content_type=content_type,
            sha256=fetched.sha256,
        )
        if sidecar:
            from .sidecar import write_sidecar

            try:
                write_sidecar(final, result, ref, job.outcome, marks=ctx.marks)
            except OSError as exc:
                job.extra_failure = SaveFailure(
                    ref.url,
                    ref.json_path,
                    f"saved {final} but its sidecar failed: {exc.strerror or exc}",
                )

    add_task_cm = multi_progress(ctx) if wants_progress(ctx) else contextlib.nullcontext(None)
    threads: list[threading.Thread] = []
    try:
        with add_task_cm as add_task:
            progress = _Progress(add_task)
            for n in range(min(concurrency, len(jobs))):
                thread = threading.Thread(
                    target=work, args=(progress,), name=f"genmedia-download-{n}", daemon=True
                )
                thread.start()
                threads.append(thread)
            for _ in jobs:
                while not finished.acquire(timeout=0.2):
                    pass
    except BaseException as exc:  # Ctrl-C, SystemExit from a SIGTERM/SIGHUP handler, …
        with commit_lock:
            cancel.set()
        _stop(threads, jobs, keep_partial)
        if not isinstance(exc, Exception):
            kept = "partial files kept as .part" if keep_partial else "no partial file left behind"
            again = f"--download {shlex.quote(template)}" + (
                " --keep-partial" if keep_partial else ""
            )
            with contextlib.suppress(Exception):
                ctx.warn(
                    f"interrupted while downloading the outputs of request {result.request_id} "
                    f"({kept}); fetch them with: "
                    f"{ctx.invocation} status {result.endpoint_id} {result.request_id} {again}",
                    once=False,
                )
        raise


def _stop(threads: list[threading.Thread], jobs: list[_Job], keep_partial: bool) -> None:
    deadline = time.monotonic() + CANCEL_GRACE_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for job in jobs:  # a worker stuck in a read: its file goes now, the thread dies with us
        part = job.part
        if part is not None:
            # kept only when it is resumable (its .json written); else it would be an orphan
            _remove(part, keep=keep_partial and os.path.lexists(sidecar_path(part)))


def _remove(part: Path, *, keep: bool) -> None:
    if keep:
        return
    for path in (part, sidecar_path(part)):
        unlink_quietly(path)


def _message(exc: BaseException) -> str:
    if isinstance(exc, (DownloadFailed, NamingError)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"
