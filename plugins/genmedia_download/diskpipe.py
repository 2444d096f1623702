"""Writing a download to disk: inline for small bodies, on a helper thread for big ones.

``DiskPipe`` takes 256 KiB–1 MiB blocks from the thread reading the socket and writes,
hashes and starts the disk writeback of them on its own thread (file writes and hashlib
release the GIL), so a big download costs about max(network, write + hash) instead of their
sum.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from genmedia_download.parts import TransferState

#: at most this many blocks wait for the helper: memory stays flat (~5 MiB per download).
PIPE_DEPTH = 4
#: Start writing a big file's pages to disk every this many bytes, so the final fsync waits
#: only for the tail instead of the whole file (Linux: fadvise DONTNEED on dirty pages
#: starts asynchronous writeback without waiting; it also keeps a huge download from
#: flooding the page cache).
WRITEBACK_BYTES = 16 << 20


def write_block(out: Any, state: TransferState, block: bytes) -> None:
    view = memoryview(block)
    while view:
        view = view[out.write(view) :]
    state.hasher.update(block)
    state.written += len(block)


class DiskPipe:
    """Write, hash and start writeback of blocks on a helper thread (big bodies).

    A bounded queue keeps memory flat (at most ``PIPE_DEPTH`` blocks in flight). An error
    on the helper thread (a full disk) is raised by the next :meth:`put` or by
    :meth:`close`, which waits until every queued block is on the file.
    """

    def __init__(self, out: Any, state: TransferState) -> None:
        import queue

        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=PIPE_DEPTH)
        self._out, self._state = out, state
        self._error: BaseException | None = None
        self._synced = state.written
        self._fadvise = getattr(os, "posix_fadvise", None)
        self._thread = threading.Thread(target=self._run, name="genmedia-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        get = self._queue.get
        while (block := get()) is not None:
            if self._error is not None:
                continue  # drain, so put() never blocks on a dead consumer
            try:
                write_block(self._out, self._state, block)
                self._writeback()
            except BaseException as exc:
                self._error = exc

    def _writeback(self) -> None:
        written = self._state.written
        if self._fadvise is None or written - self._synced < 2 * WRITEBACK_BYTES:
            return
        # everything but the last window, whose pages may still be in the write path
        end = written - WRITEBACK_BYTES
        self._fadvise(self._out.fileno(), self._synced, end - self._synced, os.POSIX_FADV_DONTNEED)
        self._synced = end

    def put(self, block: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(block)

    def close(self, *, raise_error: bool = True) -> None:
        self._queue.put(None)
        self._thread.join()
        if raise_error and self._error is not None:
            raise self._error
