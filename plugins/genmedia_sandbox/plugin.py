"""genmedia hook implementations of the sandbox plugin (registered by the core as ``sandbox``).

- ``genmedia sandbox serve | env | status | reset``: registered here, defined in
  :mod:`.commands`.
- ``genmedia --sandbox …`` / ``GENMEDIA_SANDBOX=1``: ``genmedia_configure`` binds one
  in-process emulator's socket, points every fal host role at it and uses the documented
  sandbox key (never a real key). The emulator (a daemon thread on the persistent store,
  stopped in order at exit) starts at the command's first connection to it, so commands
  that never reach fal never load it (``listener.LazySandbox``).

This module imports neither starlette nor uvicorn: they load only when a server starts.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from genmedia import hookimpl

from .home import SANDBOX_KEY, store_home

# json, pathlib and atexit load where they are used: this module is imported by every
# command, ``genmedia --help`` included, and pathlib alone is a sizeable part of that.
if TYPE_CHECKING:
    from pathlib import Path

    import click

    from genmedia.config import Settings

_lock = threading.Lock()
_in_process: Any = None
_stop_registered = False
_thread_stop_registered = False


def in_process_sandbox() -> Any:
    """The process-wide emulator of ``--sandbox``: listening, started on first connection.

    A :class:`~genmedia_sandbox.listener.LazySandbox` (or a server a test put in its
    place): its socket is bound at once, so its ``urls`` are known, but uvicorn, the
    store and the catalogue load only when a client first connects. It keeps its state
    in the persistent store (``GENMEDIA_SANDBOX_HOME``); when that variable changes
    (tests do), the next call replaces it with one on the new store.
    """
    global _in_process
    with _lock:
        home = store_home()
        current = _in_process
        if current is not None and (not current.running or _home_of(current) != home):
            current.stop()
            _in_process = current = None
        if current is None:
            from .listener import LazySandbox, listen

            _usable(home)
            preferred = _read_port(home / "port")
            try:
                sock = listen("127.0.0.1", preferred or 0)
            except OSError:  # the store's usual port is busy (another process holds it)
                sock = listen("127.0.0.1", 0)
            _in_process = current = LazySandbox(sock, home, _starter(home, preferred is None))
            _register_stop()
        return current


def in_process_server() -> Any:
    """The started :class:`~genmedia_sandbox.server.SandboxServer` of ``--sandbox``
    (starting it now if no client connected yet)."""
    current = in_process_sandbox()
    ensure = getattr(current, "ensure_started", None)
    return ensure() if ensure is not None else current


def _home_of(server: Any) -> Path:
    from pathlib import Path

    home = getattr(server, "home", None)
    return Path(home if home is not None else server.store.root)


def _usable(home: Path) -> None:
    """The store directory exists (0700 when made) and is writable, or OSError: checked at
    configure, so a bad ``GENMEDIA_SANDBOX_HOME`` is a config error, not a failed start."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.access(home, os.W_OK | os.X_OK):
        raise PermissionError(f"the sandbox store {home} is not writable")


def _log_start_error(home: Path) -> None:
    """The traceback of a failed start, appended to ``errors.log`` in the store (the
    command's own stderr belongs to its output; its request fails on the closed socket)."""
    import time
    import traceback

    try:
        with open(home / "errors.log", "a", encoding="utf-8") as log:
            log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} the emulator failed to start\n")
            log.write(traceback.format_exc())
    except OSError:
        pass


def _starter(home: Path, write_port: bool) -> Any:
    """What starts the in-process emulator on its socket: runs at the first connection."""
    faults = os.environ.get("GENMEDIA_SANDBOX_FAULTS") or None
    validate = validates_platform()

    def start(sock: Any) -> Any:
        from .server import start_sandbox
        from .store import Store

        _register_thread_stop()
        store = None
        try:
            store = Store(home)
            server = start_sandbox(
                sock=sock, faults=faults, store=store, validate_platform=validate
            )
        except BaseException:
            _log_start_error(home)
            if store is not None:
                store.close()
            raise
        if write_port:
            (home / "port").write_text(str(server.port))
        return server

    return start


def validates_platform() -> bool:
    """Whether the in-process emulator checks ``/api/v1`` traffic against fal's document.

    Only a test harness reads those checks (the pytest plugin fails a test on any issue),
    and building the checker costs ~0.5 s of imports: so a ``--sandbox`` command checks
    when ``genmedia_sandbox.pytest_plugin`` is loaded in this process or
    ``GENMEDIA_SANDBOX_VALIDATE=1``, and ``GENMEDIA_SANDBOX_VALIDATE=0`` turns it off.
    """
    import sys

    flag = os.environ.get("GENMEDIA_SANDBOX_VALIDATE", "").strip()
    if flag:
        return flag not in ("0", "false", "no", "off")
    return "genmedia_sandbox.pytest_plugin" in sys.modules


def _register_stop() -> None:
    """Stop the in-process emulator at exit (once per process; cheap: ``atexit`` only)."""
    global _stop_registered
    if not _stop_registered:
        import atexit

        atexit.register(_stop_in_process)
        _stop_registered = True


def _register_thread_stop() -> None:
    """Stop a *started* emulator before the interpreter's executors shut down.

    Python shuts ``concurrent.futures`` down (no new ``asyncio.to_thread`` work) from
    ``threading``'s exit callbacks, which run *before* ``atexit`` handlers; an emulator
    stopped only at ``atexit`` could still be running a job that then failed with
    "cannot schedule new futures after interpreter shutdown". ``threading`` runs its
    callbacks last-registered first, so ours (registered after concurrent.futures is
    imported) runs before the executors' shutdown. Registered when the server starts:
    an emulator that never started has no executor work, and needs only ``atexit``.
    """
    global _thread_stop_registered
    if _thread_stop_registered:
        return
    import concurrent.futures.thread  # noqa: F401 (its exit callback must be registered first)

    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        try:
            register(_stop_in_process)
        except RuntimeError:  # already shutting down
            pass
    _thread_stop_registered = True


def _read_port(path: Path) -> int | None:
    """The port this store's in-process emulators prefer, so URLs they print (uploads,
    outputs) keep working in the next ``--sandbox`` command while the port is free."""
    try:
        port = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return port if 1024 <= port <= 65535 else None


def _stop_in_process() -> None:
    global _in_process
    with _lock:
        if _in_process is not None:
            _in_process.stop()
            _in_process = None


#: what pretty output says on stderr while the emulator answers.
BANNER = (
    "SANDBOX: results come from the local fal emulator (placeholder media, no real "
    "generation, nothing billed)."
)


@hookimpl
def genmedia_add_options(command_name: str) -> list[click.Parameter] | None:
    """``--sandbox``: a global option, accepted anywhere on the command line."""
    if command_name != "genmedia":
        return None
    import click

    return [
        click.Option(
            ["--sandbox"],
            is_flag=True,
            default=None,
            help="Use the offline fal emulator instead of fal.ai (also GENMEDIA_SANDBOX=1).",
        )
    ]


def wanted(config: Settings) -> bool:
    """``--sandbox`` or ``GENMEDIA_SANDBOX=1``."""
    from genmedia import truthy

    return bool(config.options.get("sandbox")) or truthy(os.environ.get("GENMEDIA_SANDBOX"))


@hookimpl(tryfirst=True)
def genmedia_configure(config: Settings) -> None:
    """Bind the emulator's socket, point fal's hosts and key at it, mark the output.

    The server itself starts when the command first connects (``listener.LazySandbox``):
    a command that never talks to fal does not import it.
    """
    if not wanted(config):
        return
    from genmedia import errors

    try:
        _check_installed()
        faults = os.environ.get("GENMEDIA_SANDBOX_FAULTS")
        if faults:  # a bad spec is a config error now, not a failed first request
            from .faults import parse_spec

            parse_spec(faults)
        server = in_process_sandbox()
    except ImportError as exc:  # the "sandbox" extra (starlette, uvicorn) is missing
        raise errors.ConfigError(
            "--sandbox needs the fal emulator, which is not installed",
            {
                "reason": str(exc),
                "hint": "install the sandbox extra: pip install 'genmedia[sandbox]'",
            },
        ) from None
    except (ValueError, OSError, RuntimeError) as exc:  # FaultSpecError is a ValueError
        raise errors.ConfigError(
            f"The sandbox could not start: {exc}",
            {"store": str(store_home()), "hint": "check GENMEDIA_SANDBOX_* variables"},
        ) from None
    for role, url in server.urls.items():  # every role but control (listener.role_urls)
        config.set_host(role, url)
    # a configured real key is never sent, not even to the local emulator
    config.set_credential("fal", SANDBOX_KEY, source="sandbox", secret=False)
    config.marks["sandbox"] = True
    if BANNER not in config.banners:
        config.banners.append(BANNER)
    config.invocation = "genmedia --sandbox"


def _check_installed() -> None:
    """ImportError when the server's libraries are missing (found, not imported)."""
    from importlib.util import find_spec

    for name in ("uvicorn", "starlette"):
        if find_spec(name) is None:
            raise ImportError(f"No module named {name!r}")


@hookimpl
def genmedia_offline_catalog() -> dict[str, list[str]]:
    """The bundled catalogue's endpoints and input names (shell completion)."""
    from genmedia_sandbox.catalog import Catalog

    found: dict[str, list[str]] = {}
    for endpoint_id, model in Catalog().models.items():
        props = (model.input_schema or {}).get("properties")
        found[endpoint_id] = sorted(props) if isinstance(props, dict) else []
    return found


@hookimpl
def genmedia_register_commands(cli: click.Group) -> None:
    """``genmedia sandbox serve | env | status | reset``."""
    from .commands import register

    register(cli)
