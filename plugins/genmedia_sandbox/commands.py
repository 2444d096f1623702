"""``genmedia sandbox serve | env | status | reset``: the emulator as a command.

- ``serve [--port N] [--host H] [--print-env]``: run the emulator in the foreground on the
  persistent store; prints ``{"base_url", "urls", "env", "sandbox": true}`` as one JSON
  line (or ``export …`` lines with ``--print-env``) and serves until Ctrl-C.
  ``GENMEDIA_SANDBOX_FAULTS`` registers faults at start.
- ``env``: the ``export …`` lines (or ``--json``) that point genmedia at a running
  ``sandbox serve``: ``eval "$(genmedia sandbox env)"``.
- ``status`` / ``reset``: where the store lives and what it holds / forget everything in it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from genmedia.cli import not_an_agent_tool

from .home import SANDBOX_KEY, store_home

if TYPE_CHECKING:
    from pathlib import Path

SERVE_FILE = "serve.json"


def export_lines(env: dict[str, str]) -> str:
    import shlex

    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def serve_env(server_env: dict[str, str]) -> dict[str, str]:
    """Everything a shell needs to point genmedia (and fal-client's run host) at a server."""
    return {**server_env, "FAL_KEY": SANDBOX_KEY}


def _running_serve(home: Path) -> dict[str, Any] | None:
    """The ``serve.json`` of a live ``sandbox serve`` on this store, or None."""
    import json
    import socket
    from urllib.parse import urlsplit

    try:
        doc = json.loads((home / SERVE_FILE).read_text())
        parts = urlsplit(doc["base_url"])
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            pass
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return doc if isinstance(doc, dict) else None


def register(cli: click.Group) -> None:
    """Add the ``sandbox`` group and its commands to ``cli``."""

    @cli.group("sandbox")
    def sandbox_group() -> None:
        """The local fal.ai emulator (offline rehearsal; placeholder media, never billed)."""

    @not_an_agent_tool("a long-running server (`genmedia --sandbox mcp` runs the emulator)")
    @sandbox_group.command("serve")
    @click.option(
        "--port", type=int, default=0, show_default=True, help="Port (0 = any free port)."
    )
    @click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
    @click.option("--run-time", "run_s", type=float, default=None, help="Seconds each job runs.")
    @click.option(
        "--queue-time", "queue_s", type=float, default=None, help="Seconds each job queues."
    )
    @click.option(
        "--print-env",
        is_flag=True,
        help="Print `export …` lines (for eval) instead of the JSON line, then serve.",
    )
    def serve(
        port: int, host: str, run_s: float | None, queue_s: float | None, print_env: bool
    ) -> None:
        """Serve the emulator until Ctrl-C; prints its URLs and env vars as JSON first.

        State lives in the same store as `genmedia --sandbox` (GENMEDIA_SANDBOX_HOME), so
        both see the same jobs, files and assets. Faults from GENMEDIA_SANDBOX_FAULTS
        (the X-Sandbox-Fault syntax) apply from start.
        """
        import json
        import sys
        import time

        from .faults import FaultSpecError
        from .server import start_sandbox
        from .store import Store

        home = store_home()
        try:
            server = start_sandbox(
                port, host, run_s=run_s, queue_s=queue_s,
                faults=os.environ.get("GENMEDIA_SANDBOX_FAULTS") or None, store=Store(home),
            )  # fmt: skip
        except (FaultSpecError, OSError, ValueError) as exc:
            raise click.ClickException(f"sandbox failed to start: {exc}") from exc
        env = serve_env(server.env())
        doc = {"base_url": server.base_url, "urls": server.urls, "env": env, "sandbox": True}
        marker = home / SERVE_FILE
        marker.write_text(json.dumps({**doc, "pid": os.getpid()}))
        if print_env:
            sys.stdout.write(export_lines(env))
        else:
            sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()
        try:
            while server.running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
            try:
                if json.loads(marker.read_text()).get("pid") == os.getpid():
                    marker.unlink()
            except (OSError, ValueError):
                pass

    @sandbox_group.command("env")
    @click.pass_context
    def env_cmd(ctx: click.Context) -> None:
        """Print `export …` lines pointing genmedia at the running `sandbox serve`.

        Use: eval "$(genmedia sandbox env)". With --json: {"env": {...}, "base_url"}.
        The key exported is the documented sandbox key (never a real one).
        """
        from genmedia import errors
        from genmedia.cli import get_app
        from genmedia.output import emit

        app = get_app(ctx)
        home = store_home()
        doc = _running_serve(home)
        if doc is None:
            raise errors.ConfigError(
                "No `genmedia sandbox serve` is running on this sandbox store",
                {
                    "store": str(home),
                    "hint": "start one first: genmedia sandbox serve & "
                    "(or use genmedia --sandbox … for an in-process emulator)",
                },
            )
        env = serve_env(doc["env"])
        if app.json_flag or app.field:  # export lines even into a pipe: they are for eval
            emit(app, {"base_url": doc["base_url"], "env": env})
            return
        app.stdout.write(export_lines(env))
        app.stdout.flush()

    @sandbox_group.command("status")
    @click.pass_context
    def status_cmd(ctx: click.Context) -> None:
        """Show where the sandbox store lives and what it holds (jobs, files, assets)."""
        from genmedia.cli import get_app
        from genmedia.output import emit

        from .store import Store

        app = get_app(ctx)
        home = store_home()
        if not (home / "state.sqlite3").exists():
            emit(app, {"home": str(home), "exists": False})
            return
        store = Store(home)
        try:
            doc: dict[str, Any] = {**store.summary(), "exists": True}
        finally:
            store.close()
        serving = _running_serve(home)
        doc["serve"] = serving["base_url"] if serving else None
        emit(app, doc)

    @sandbox_group.command("reset")
    @click.pass_context
    def reset_cmd(ctx: click.Context) -> None:
        """Forget every sandbox job, upload, output and asset (the store's contents)."""
        from genmedia.cli import get_app
        from genmedia.output import emit

        from .store import Store

        app = get_app(ctx)
        home = store_home()
        store = Store(home)
        try:
            before = store.summary()
            store.reset()
        finally:
            store.close()
        serving = _running_serve(home)
        if serving is not None:  # its in-memory caches too (the control route resets it all)
            import httpx

            try:
                httpx.post(serving["base_url"] + "/_sandbox/reset", timeout=10)
            except httpx.HTTPError as exc:
                app.warn(f"the running sandbox serve could not be reset: {exc}")
        emit(app, {"reset": True, "home": str(home), "removed": before})
