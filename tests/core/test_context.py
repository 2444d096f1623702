"""``AppContext.call_on_close``: per-invocation clean-up that runs however the invocation
ends, whatever thread registered it."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from genmedia import hookimpl
from genmedia.context import AppContext
from genmedia.testing import invoke


class ClosingPlugin:
    """Registers a clean-up from a worker thread (as a batch worker's first write does)."""

    def __init__(self) -> None:
        self.closed: list[str] = []

    @hookimpl
    def genmedia_register_providers(self, register: Any, ctx: AppContext) -> None:
        worker = threading.Thread(
            target=ctx.call_on_close, args=(lambda: self.closed.append("thread"),)
        )
        worker.start()
        worker.join()


def test_a_callback_registered_in_a_thread_runs_when_a_failing_invocation_ends() -> None:
    plugin = ClosingPlugin()
    result = invoke(["run", "no-such/model", "--prompt", "x"], plugins=[plugin])
    assert result.exit_code != 0 and result.stdout == "", result  # it failed
    assert plugin.closed == ["thread"]


def test_callbacks_run_last_first_each_once_even_when_one_fails() -> None:
    ctx = AppContext(json_flag=True)
    ran: list[str] = []

    def broken() -> None:
        ran.append("broken")
        raise OSError("gone")

    ctx.call_on_close(lambda: ran.append("first"))
    ctx.call_on_close(broken)
    ctx.call_on_close(lambda: ran.append("last"))
    ctx.close()
    ctx.close()  # closing twice runs nothing again
    assert ran == ["last", "broken", "first"]
    assert ctx.warnings == ["cleaning up failed (OSError: gone)"]


def test_an_interrupt_in_a_callback_is_raised_after_the_others_ran() -> None:
    ctx = AppContext(json_flag=True)
    ran: list[str] = []

    def interrupted() -> None:
        raise KeyboardInterrupt

    ctx.call_on_close(lambda: ran.append("first"))
    ctx.call_on_close(interrupted)
    with pytest.raises(KeyboardInterrupt):
        ctx.close()
    assert ran == ["first"]


class WarnOnClosePlugin:
    """A clean-up that warns (as the journal does when its last write fails)."""

    @hookimpl
    def genmedia_register_providers(self, register: Any, ctx: AppContext) -> None:
        ctx.call_on_close(lambda: ctx.warn("clean-up note"))


@pytest.mark.parametrize("events", [False, True], ids=["json", "events"])
def test_clean_up_runs_before_the_error_object_so_its_warning_is_in_it(events: bool) -> None:
    flags = ["--json", "--events"] if events else ["--json"]
    result = invoke(
        [*flags, "run", "no-such/model", "--prompt", "x"], plugins=[WarnOnClosePlugin()]
    )
    assert result.exit_code != 0 and result.stdout == "", result
    lines = result.stderr.strip().splitlines()
    error = json.loads(lines[-1] if events else result.stderr)  # the error object comes last
    assert "error" in error
    assert "clean-up note" in error["details"]["warnings"]
