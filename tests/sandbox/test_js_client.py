"""The official JavaScript client (@fal-ai/client, npm) against the emulator, run with node.

Its exact version is pinned by tests/sandbox/js/package-lock.json and installed with
``npm ci`` (by .ci/run, or here when node_modules is missing). Only host redirection is
added (a request middleware): subscribe (polling and streaming), cancel, sync run,
streaming run (and its error), storage upload, simple and multipart (> 90 MiB).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from genmedia_sandbox.responses import SANDBOX_KEY

JS = Path(__file__).parent / "js"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def node_client() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = "node/npm not installed: the @fal-ai/client conformance test needs them"
        if os.environ.get("GENMEDIA_REQUIRE_NODE"):
            pytest.fail(reason + " (GENMEDIA_REQUIRE_NODE is set, as in CI)")
        pytest.skip(reason)
    if not (JS / "node_modules" / "@fal-ai" / "client").is_dir():
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, capture_output=True, text=True,
            timeout=240,
        )  # fmt: skip
        assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout}\n{proc.stderr}"
    return JS / "conformance.mjs"


def test_fal_js_client_against_the_emulator(node_client, fal_sandbox):
    proc = subprocess.run(
        ["node", str(node_client), fal_sandbox.base_url, SANDBOX_KEY, "91"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    failed = {name: r for name, r in results.items() if not r["ok"]}
    assert not failed, json.dumps(failed, indent=1)
    cdn = fal_sandbox.urls["cdn"] + "/files/"
    for name in ("subscribe_polling", "subscribe_streaming", "run", "stream"):
        assert results[name]["url"].startswith(cdn), (name, results[name])
    assert results["subscribe_polling"]["statuses"][-1] == "COMPLETED"
    assert results["subscribe_streaming"]["statuses"][-1] == "COMPLETED"
    jobs = {j.request_id: j for j in fal_sandbox.jobs}
    assert results["subscribe_polling"]["requestId"] in jobs
    assert results["run"]["requestId"] in jobs
    cancel = results["cancel"]
    assert cancel["status"] == "COMPLETED" and cancel["resultStatus"] == 499
    assert jobs[cancel["requestId"]].cancelled
    error = results["stream_error"]
    assert error["status"] == 422 and isinstance(error["detail"], list)
    assert error["events"] == 0
    assert results["upload"]["same"] and results["upload"]["size"] == 4096
    assert results["upload_multipart"]["same"]
    assert results["upload_multipart"]["size"] == 91 * 1024 * 1024
    multipart = [r for r in fal_sandbox.requests if r.role == "cdn" and "/multipart/" in r.path]
    assert len(multipart) >= 10  # 10 MiB parts, then complete
