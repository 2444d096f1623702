"""`genmedia mcp` driven by the MCP SDK's own client over stdio, as an agent drives it.

The server is a real subprocess (``python -m genmedia --sandbox mcp``); the client is
``mcp.client.stdio.stdio_client`` + ``ClientSession``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from genmedia.testing import invoke
from genmedia_sandbox.pytest_plugin import sandbox_environment

SCHNELL = "fal-ai/flux/schnell"


def server_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment (its own GENMEDIA_HOME) with every data dir in tmp."""
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(tmp_path / name.lower())
    env.setdefault("GENMEDIA_SANDBOX_HOME", str(tmp_path / "sandbox-home"))
    env.update(extra or {})
    return env


@asynccontextmanager
async def connect(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "genmedia", *args],
        env=env or server_env(tmp_path),
        cwd=str(tmp_path),
    )
    with open(tmp_path / "server-stderr.log", "w", encoding="utf-8") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def run_async(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def doc_of(result: Any) -> Any:
    """The JSON document of a tool result: structured content, and the same as text."""
    text = json.loads(result.content[0].text)
    if result.structured_content is not None:
        assert result.structured_content == text
    return text


@pytest.mark.timeout(120)
def test_an_agent_lists_tools_runs_a_model_gets_a_tool_error_and_reads_resources(tmp_path):
    out = tmp_path / "out"
    expected_tools = {t["name"] for t in invoke(["mcp", "--list-tools", "--json"]).json["tools"]}

    async def scenario() -> None:
        async with connect(tmp_path, "--sandbox", "mcp") as session:
            # -- the tools are the command tree
            listed = await session.list_tools()
            tools = {tool.name: tool for tool in listed.tools}
            assert set(tools) == expected_tools
            assert tools["run"].input_schema["properties"]["input"]["type"] == "object"
            assert tools["assets_delete"].annotations.destructive_hint is True

            # -- a model run in the sandbox, waiting, with progress and the files downloaded
            progress: list[str] = []

            async def on_progress(value: float, total: float | None, message: str | None):
                progress.append(message or "")

            result = await session.call_tool(
                "run",
                {
                    "endpoint_id": SCHNELL,
                    "input": {"prompt": "a cat", "num_images": 2},
                    "download": f"{out}/",
                },
                progress_callback=on_progress,
            )
            assert not result.is_error, result.content[0].text
            doc = doc_of(result)
            assert doc["status"] == "completed" and doc["sandbox"] is True
            assert result.meta["genmedia/exit_code"] == 0
            rid = doc["request_id"]
            files = doc["downloaded_files"]
            assert len(files) == 2 == len(doc["result"]["images"])
            for saved in files:
                path = Path(saved["path"])
                assert path.parent == out and path.is_file()
                assert path.stat().st_size == saved["size_bytes"] > 0
                assert sha256(path) == saved["sha256"]
            assert any(m.startswith(f"submitted {rid}") for m in progress), progress
            assert any(m.startswith("COMPLETED") for m in progress), progress

            # -- an invalid input: a tool error with the CLI's error object; nothing is paid
            result = await session.call_tool(
                "run", {"endpoint_id": SCHNELL, "input": {"prompt": "a cat", "num_images": 20}}
            )
            assert result.is_error
            error = doc_of(result)
            assert set(error) == {"error", "details"}
            assert error["error"].startswith("Validation error")
            details = error["details"]
            assert details["status"] == 422 and details["source"] == "local"
            assert details["validation_errors"][0]["field"] == "num_images"
            assert details["body"]["detail"][0]["loc"] == ["body", "num_images"]
            assert "request_id" not in details  # nothing was submitted
            assert result.meta["genmedia/exit_code"] == 5

            # -- arguments that do not fit the tool's schema: a usage error, exit 2
            result = await session.call_tool("run", {"endpoint_id": SCHNELL, "prompt": "x"})
            assert result.is_error and result.meta["genmedia/exit_code"] == 2
            assert "prompt" in doc_of(result)["error"]

            # -- resources: the journal has the one run that was submitted
            resources = await session.list_resources()
            assert [str(r.uri) for r in resources.resources] == ["genmedia://runs"]
            read = await session.read_resource("genmedia://runs")
            runs = json.loads(read.contents[0].text)["runs"]
            assert [r["request_id"] for r in runs] == [rid]
            assert runs[0]["status"] == "completed" and runs[0]["sandbox"] is True
            assert {f["path"] for f in runs[0]["files"]} == {f["path"] for f in files}

            templates = await session.list_resource_templates()
            template = templates.resource_templates[0].uri_template
            assert template == "genmedia://schemas/{+endpoint_id}"
            read = await session.read_resource(f"genmedia://schemas/{SCHNELL}")
            schema = json.loads(read.contents[0].text)
            assert schema["endpoint_id"] == SCHNELL
            assert "num_images" in {f["name"] for f in schema["input"]}

    run_async(scenario)
    assert not (tmp_path / "server-stderr.log").read_text(encoding="utf-8").strip()


@pytest.mark.timeout(120)
def test_async_run_then_status_waits_and_downloads(tmp_path):
    out = tmp_path / "later"

    async def scenario() -> None:
        async with connect(
            tmp_path, "mcp", env=server_env(tmp_path, {"GENMEDIA_SANDBOX": "1"})
        ) as s:
            submitted = doc_of(
                await s.call_tool(
                    "run", {"endpoint_id": SCHNELL, "input": {"prompt": "x"}, "async": True}
                )
            )
            assert submitted["status"] == "submitted" and submitted["sandbox"] is True
            rid = submitted["request_id"]
            result = await s.call_tool(
                "status", {"ids": [SCHNELL, rid], "wait": True, "download": f"{out}/"}
            )
            assert not result.is_error, result.content[0].text
            doc = doc_of(result)
            assert doc["status"] == "completed" and doc["request_id"] == rid
            saved = Path(doc["downloaded_files"][0]["path"])
            assert saved.parent == out and sha256(saved) == doc["downloaded_files"][0]["sha256"]
            # an unknown request id: the CLI's not-found error, exit 4
            result = await s.call_tool("status", {"ids": [SCHNELL, "no-such-request"]})
            assert result.is_error and result.meta["genmedia/exit_code"] == 4

    run_async(scenario)


@pytest.mark.timeout(120)
def test_a_cancelled_call_is_ctrl_c_the_job_keeps_running_and_its_id_is_kept(fal_sandbox, tmp_path):
    fal_sandbox.set_timing(SCHNELL, run_s=60)
    env = server_env(tmp_path, sandbox_environment(fal_sandbox, tmp_path))
    errlog = tmp_path / "server-stderr.log"

    async def scenario() -> None:
        async with connect(tmp_path, "mcp", env=env) as session:
            submitted = anyio.Event()
            seen: list[str] = []

            async def on_progress(value: float, total: float | None, message: str | None):
                seen.append(message or "")
                if (message or "").startswith("submitted "):
                    submitted.set()

            async with anyio.create_task_group() as tg:
                scope = anyio.CancelScope()

                async def call() -> None:
                    with scope:
                        await session.call_tool(
                            "run",
                            {"endpoint_id": SCHNELL, "input": {"prompt": "slow"}},
                            progress_callback=on_progress,
                        )

                tg.start_soon(call)
                with anyio.fail_after(30):
                    await submitted.wait()
                # the server answers other calls while this one runs (its own thread)
                rid = seen[0].split()[1]
                running = doc_of(await session.call_tool("status", {"ids": [SCHNELL, rid]}))
                assert running["status"] in ("IN_QUEUE", "IN_PROGRESS")
                scope.cancel()

            # the server reports the interrupted call's error object on its stderr
            deadline = time.monotonic() + 30
            lines: list[str] = []
            while time.monotonic() < deadline:
                lines = [ln for ln in errlog.read_text(encoding="utf-8").splitlines() if ln]
                if lines:
                    break
                await anyio.sleep(0.1)
            error = json.loads(lines[-1])
            assert error["error"] == f"Interrupted: request {rid} on {SCHNELL}"
            assert error["details"]["request_id"] == rid
            assert error["details"]["next"] == f"genmedia status {SCHNELL} {rid} --wait"
            assert error["details"]["tool"] == "run"
            # the job was not cancelled, the journal has it, the server still serves
            job = fal_sandbox.job(rid)
            assert job is not None and not job.cancelled
            runs = json.loads((await session.read_resource("genmedia://runs")).contents[0].text)
            assert runs["runs"][0]["request_id"] == rid
            status = doc_of(await session.call_tool("status", {"ids": [SCHNELL, rid]}))
            assert status["request_id"] == rid and status["status"] in ("IN_QUEUE", "IN_PROGRESS")

    run_async(scenario)


def test_the_sdk_is_missing_gives_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_mcp(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "mcp" or name.startswith("mcp.") or name == "genmedia_mcp.server":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mcp)
    monkeypatch.delitem(sys.modules, "genmedia_mcp.server", raising=False)
    result = invoke(["mcp", "--json"])
    assert result.exit_code == 2
    assert result.error["details"]["hint"] == "pip install 'genmedia[mcp]'"
