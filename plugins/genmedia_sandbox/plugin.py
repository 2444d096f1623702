"""genmedia hook implementations of the sandbox plugin (registered by the core as ``sandbox``).

- ``genmedia sandbox serve [--port N] [--host H]``: run the emulator in the foreground;
  prints ``{"base_url", "urls", "env", "sandbox": true}`` as one JSON line on stdout and
  serves until Ctrl-C (exit 0). ``GENMEDIA_SANDBOX_FAULTS`` registers faults at start.
- ``genmedia --sandbox …`` / ``GENMEDIA_SANDBOX=1``: ``genmedia_configure`` starts one
  in-process emulator (a daemon thread, stopped at exit), points every fal host role
  at it and supplies the key ``"sandbox"`` when none is configured.

This module imports neither starlette nor uvicorn: they load only when a server starts.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import TYPE_CHECKING, Any

from genmedia import hookimpl

if TYPE_CHECKING:
    import click

    from genmedia.config import Settings

ROLES = ("queue", "run", "rest", "api", "cdn", "docs")
_lock = threading.Lock()
_in_process: Any = None


def in_process_server() -> Any:
    """The process-wide sandbox started for ``--sandbox`` (started on first call)."""
    global _in_process
    with _lock:
        if _in_process is None or not _in_process.running:
            from .server import start_sandbox

            _in_process = start_sandbox(faults=os.environ.get("GENMEDIA_SANDBOX_FAULTS") or None)
            atexit.register(_stop_in_process)
        return _in_process


def _stop_in_process() -> None:
    global _in_process
    with _lock:
        if _in_process is not None:
            _in_process.stop()
            _in_process = None


@hookimpl
def genmedia_configure(config: Settings) -> None:
    if not getattr(config, "sandbox", False):
        return
    server = in_process_server()
    for role in ROLES:
        config.set_host(role, server.urls[role])
    if config.api_key is None:
        config.set_api_key("sandbox", source="sandbox")
    if hasattr(config, "sandbox_active"):
        config.sandbox_active = True


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    import click

    @cli.group("sandbox")
    def sandbox_group() -> None:
        """The local fal.ai emulator (offline rehearsal; placeholder media, never billed)."""

    @sandbox_group.command("serve")
    @click.option(
        "--port", type=int, default=0, show_default=True, help="Port (0 = any free port)."
    )
    @click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
    @click.option("--run-time", "run_s", type=float, default=None, help="Seconds each job runs.")
    @click.option(
        "--queue-time", "queue_s", type=float, default=None, help="Seconds each job queues."
    )
    def serve(port: int, host: str, run_s: float | None, queue_s: float | None) -> None:
        """Serve the emulator until Ctrl-C; prints its URLs and env vars as JSON first.

        Faults from GENMEDIA_SANDBOX_FAULTS (the X-Sandbox-Fault syntax) apply from start.
        """
        import time

        from .faults import FaultSpecError
        from .server import start_sandbox

        try:
            server = start_sandbox(
                port, host, run_s=run_s, queue_s=queue_s,
                faults=os.environ.get("GENMEDIA_SANDBOX_FAULTS") or None,
            )  # fmt: skip
        except (FaultSpecError, OSError) as exc:
            raise click.ClickException(f"sandbox failed to start: {exc}") from exc
        doc = {
            "base_url": server.base_url,
            "urls": server.urls,
            "env": server.env(),
            "sandbox": True,
        }
        import json

        click.echo(json.dumps(doc))
        try:
            while server.running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
