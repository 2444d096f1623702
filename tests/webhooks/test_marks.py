"""The backstop finishes only the runs made under this listener's own output marks
(compared as a whole): a run made under another plugin's marks (a test plugin's
``--staging`` here) went to that plugin's hosts and is left to a listener started with
the same global options."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from genmedia.context import AppContext
from genmedia.testing import invoke, plugin_manager
from genmedia_webhooks.listen import ListenOptions, Receiver
from tests.plugins.staging import Staging

ENDPOINT = "fal-ai/flux/schnell"

pytestmark = pytest.mark.timeout(90)


def submit(*args: str) -> str:
    done = invoke([*args, "run", ENDPOINT, "--prompt", "x", "--async", "--json"],
                  plugins=[Staging()])  # fmt: skip
    assert done.exit_code == 0, done
    return str(done.json["request_id"])


def backstop(**global_options: Any) -> list[dict[str, Any]]:
    out = io.StringIO()
    app = AppContext(json_flag=True, global_options=global_options, stdout=out)
    app.use_plugin_manager(plugin_manager([Staging()]))
    try:
        app.configure()
        Receiver(app, ListenOptions(backstop_after=0)).backstop()
    finally:
        app.close()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_backstop_leaves_runs_made_under_other_marks(fal_sandbox_env):
    plain, staged = submit(), submit("--staging")
    deadline = time.monotonic() + 30
    while not all(fal_sandbox_env.job(r).status == "COMPLETED" for r in (plain, staged)):
        assert time.monotonic() < deadline, "the emulator never finished the jobs"
        time.sleep(0.05)
    first = backstop()
    assert [(line["request_id"], line["outcome"]) for line in first] == [(plain, "completed")]
    second = backstop(staging=True)
    assert [(line["request_id"], line["outcome"]) for line in second] == [(staged, "completed")]
