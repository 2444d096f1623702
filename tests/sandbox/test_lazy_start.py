"""``genmedia --sandbox`` binds its emulator's socket at configure and starts the server on
the command's first connection (``genmedia_sandbox.listener.LazySandbox``).

A command that never talks to fal (``plugins``, ``run ENDPOINT --help`` from the schema
cache) never imports the server, not even at exit; one that does is answered, however
soon after configure it connects; two processes at once each serve their own port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from genmedia.config import Settings
from genmedia_sandbox import plugin

SCHNELL = "fal-ai/flux/schnell"
#: How long a test waits for a process under test to listen before it fails.
LISTEN_DEADLINE = 30.0
#: What the emulator loads when it starts: the server, its app and state, the store.
SERVER_MODULES = (
    "uvicorn",
    "starlette",
    "genmedia_sandbox.server",
    "genmedia_sandbox.app",
    "genmedia_sandbox.store",
    "genmedia_sandbox.catalog",
)

# Runs genmedia like `python -m genmedia`; an exit handler registered before genmedia's
# own ones runs after them (atexit is last-in, first-out), so the list also covers
# anything the sandbox's stop at exit might import.
PROBE = """
import atexit, json, os, sys

def report():
    names = json.loads(os.environ["PROBE_MODULES"])
    loaded = sorted(n for n in names if n in sys.modules)
    with open(os.environ["PROBE_OUT"], "w") as out:
        json.dump(loaded, out)

atexit.register(report)
from genmedia.cli import main
main(sys.argv[1:])
"""


def probe_env(out: Path) -> dict[str, str]:
    """The environment of a :data:`PROBE` process that reports to ``out``."""
    return {**os.environ, "PROBE_OUT": str(out), "PROBE_MODULES": json.dumps(SERVER_MODULES)}


@contextmanager
def popen(argv: list[str], cwd: Path, **kw: object) -> Iterator[subprocess.Popen[str]]:
    """A process with its stdout and stderr piped, killed at the end if still running."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, **kw
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _until_listening(proc: subprocess.Popen[str], listening: Callable[[], bool]) -> None:
    """Until ``listening()`` (polled), failing if ``proc`` exits or after LISTEN_DEADLINE."""
    deadline = time.monotonic() + LISTEN_DEADLINE
    while not listening():
        assert proc.poll() is None, proc.communicate()
        if time.monotonic() > deadline:
            pytest.fail(f"process {proc.pid} did not listen within {LISTEN_DEADLINE:.0f} s")
        time.sleep(0.05)


def probe(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``genmedia ARGS`` in a fresh process; its result and the server modules it loaded."""
    out = tmp_path / "probe.json"
    out.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=probe_env(out),
        timeout=120,
        cwd=tmp_path,
    )
    return done, json.loads(out.read_text())


def test_commands_that_need_no_emulator_never_load_it(tmp_path: Path) -> None:
    done, loaded = probe(tmp_path, "--sandbox", "plugins", "--json")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert any(p["name"] == "sandbox" for p in json.loads(done.stdout))
    assert loaded == []

    # the first `run ENDPOINT --help` fetches the schema: the emulator starts to answer
    done, loaded = probe(tmp_path, "--sandbox", "run", SCHNELL, "--help", "--json")
    assert done.returncode == 0, done.stderr
    assert "uvicorn" in loaded and "genmedia_sandbox.store" in loaded
    # the next one reads the schema cache: no request, no server
    again, loaded = probe(tmp_path, "--sandbox", "run", SCHNELL, "--help", "--json")
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert json.loads(again.stdout) == json.loads(done.stdout)
    assert loaded == []


def test_a_run_starts_the_emulator_and_completes_in_the_sandbox(tmp_path: Path) -> None:
    done, loaded = probe(tmp_path, "--sandbox", "run", SCHNELL, "--prompt", "x", "--json")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    doc = json.loads(done.stdout)
    assert doc["sandbox"] is True and doc["status"] == "completed"
    assert set(loaded) == set(SERVER_MODULES)
    home = Path(os.environ["GENMEDIA_SANDBOX_HOME"])
    assert (home / "port").read_text() == str(_port_of(doc))  # the next command prefers it


def _port_of(doc: dict) -> int | None:
    return urlsplit(doc["result"]["images"][0]["url"]).port


def _accepts(port: int) -> bool:
    """Whether something accepts TCP connections on ``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return False
    return True


def test_two_processes_at_once_each_serve_their_own_port(run_genmedia, tmp_path: Path) -> None:
    first = run_genmedia("--sandbox", "run", SCHNELL, "--prompt", "x", "--json")
    assert first.returncode == 0, first.stderr
    usual = _port_of(json.loads(first.stdout))
    assert usual is not None
    # A binds the store's usual port at configure, then waits for its prompt on stdin
    argv = [sys.executable, "-m", "genmedia", "--sandbox", "run", SCHNELL, "--prompt", "-"]
    with popen([*argv, "--json"], tmp_path, stdin=subprocess.PIPE) as holder:
        _until_listening(holder, lambda: _accepts(usual))
        other = run_genmedia("--sandbox", "run", SCHNELL, "--prompt", "y", "--json")
        assert other.returncode == 0, other.stderr
        doc = json.loads(other.stdout)
        assert doc["sandbox"] is True and _port_of(doc) not in (None, usual)
        out, err = holder.communicate("a cat\n", timeout=120)
    assert holder.returncode == 0 and err == "", err
    held = json.loads(out)
    assert held["sandbox"] is True and held["status"] == "completed"
    assert _port_of(held) not in (None, _port_of(doc))  # the usual one, unless taken meanwhile


@pytest.fixture
def configured() -> object:
    """``genmedia_configure`` with ``--sandbox`` in this process; the emulator stopped after."""
    plugin._stop_in_process()
    settings = Settings(config_dir=None, data_dir=None, cache_dir=None, options={"sandbox": True})  # type: ignore[arg-type]
    plugin.genmedia_configure(settings)
    try:
        yield settings
    finally:
        plugin._stop_in_process()


def test_configure_binds_the_socket_and_starts_nothing(configured: Settings) -> None:
    lazy = plugin._in_process
    assert lazy.server is None and lazy.running
    assert configured.host("queue", default="") == f"http://127.0.0.1:{lazy.port}/queue"
    # bound and listening: a client could connect now (not done here: it would start it)
    probe_sock = socket.socket()
    with pytest.raises(OSError):
        probe_sock.bind(("127.0.0.1", lazy.port))
    probe_sock.close()


def test_connections_made_right_after_configure_are_all_answered(configured: Settings) -> None:
    """Sixteen clients connect before the server exists; every one gets its answer."""
    lazy = plugin._in_process
    assert lazy.server is None
    socks = [socket.create_connection(("127.0.0.1", lazy.port), timeout=30) for _ in range(16)]
    try:
        for sock in socks:
            sock.sendall(b"GET /_sandbox/ HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n\r\n")
        answers = []
        for sock in socks:
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            answers.append(data)
    finally:
        for sock in socks:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers), answers
    assert lazy.server is not None and lazy.server.running
    assert plugin.in_process_server() is lazy.server
    # and through the hosts configure set, as the command's own client sees them
    response = httpx.get(configured.host("queue", default="") + f"/{SCHNELL}/requests/nope/status")
    assert response.status_code in (401, 404)  # answered by the emulator (no key sent)


def test_a_stop_before_any_connection_closes_the_socket(configured: Settings) -> None:
    lazy = plugin._in_process
    watcher = lazy._watcher
    plugin._stop_in_process()
    assert lazy.server is None and not lazy.running and not watcher.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", lazy.port), timeout=5)
    with pytest.raises(RuntimeError, match="stopped"):
        lazy.ensure_started()


def test_a_stop_after_the_start_stops_the_server(configured: Settings) -> None:
    lazy = plugin._in_process
    server = plugin.in_process_server()  # started on demand, on the same socket
    assert lazy.server is server and server.port == lazy.port
    assert httpx.get(server.base_url + "/_sandbox/").status_code == 200
    plugin._stop_in_process()
    assert not server.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", lazy.port), timeout=5)


def test_an_unusable_store_is_a_config_error_at_configure(tmp_path: Path, monkeypatch) -> None:
    """Checked before binding (the store itself opens only at the start)."""
    from genmedia import errors

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GENMEDIA_SANDBOX_HOME", str(blocker))
    plugin._stop_in_process()
    settings = Settings(config_dir=None, data_dir=None, cache_dir=None, options={"sandbox": True})  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigError, match="could not start"):
        plugin.genmedia_configure(settings)
    assert plugin._in_process is None


def test_a_failed_start_fails_waiting_clients_at_once(tmp_path: Path, monkeypatch) -> None:
    """A store that cannot open (here: not a database) is found at the first connection:
    the client's connection is closed, not left hanging, and errors.log says why."""
    home = tmp_path / "broken-store"
    home.mkdir()
    (home / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("GENMEDIA_SANDBOX_HOME", str(home))
    plugin._stop_in_process()
    settings = Settings(config_dir=None, data_dir=None, cache_dir=None, options={"sandbox": True})  # type: ignore[arg-type]
    plugin.genmedia_configure(settings)
    try:
        lazy = plugin._in_process
        # reset or closed, never a timeout (a hang would end as httpx.ReadTimeout)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError)):
            httpx.get(lazy.base_url + "/_sandbox/", timeout=60)
        lazy._watcher.join(30)
        assert lazy.error is not None and not lazy.running
        assert "not a database" in (home / "errors.log").read_text()
    finally:
        plugin._stop_in_process()


def _listening_port(pid: int) -> int | None:
    """The TCP port process ``pid`` listens on (Linux ``/proc``), without connecting to it
    (a connection would start the emulator)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            return int(fields[1].split(":")[1], 16)
    return None


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_sigterm_before_the_emulator_started(tmp_path: Path) -> None:
    """The command waits for its prompt on stdin, its socket bound, nothing started:
    SIGTERM still exits 143 with one JSON error, and the stop at exit loads nothing."""
    out = tmp_path / "probe.json"
    argv = [sys.executable, "-c", PROBE, "--sandbox", "run", SCHNELL, "--prompt", "-", "--json"]
    with popen(argv, tmp_path, stdin=subprocess.PIPE, env=probe_env(out)) as proc:
        _until_listening(proc, lambda: _listening_port(proc.pid) is not None)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert stdout == "" and "Traceback" not in stderr
    assert "error" in json.loads(stderr)
    assert json.loads(out.read_text()) == []


def test_sigterm_after_the_start_keeps_the_job_in_the_store(run_genmedia, tmp_path: Path) -> None:
    """A started emulator is stopped as before: exit 143 with the request id, and the next
    ``--sandbox`` process still finds the job (the store forgot nothing)."""
    env = {**os.environ, "GENMEDIA_SANDBOX_FAULTS": "run_time:seconds=600"}
    argv = [sys.executable, "-m", "genmedia", "--sandbox", "run", SCHNELL, "--prompt", "x"]
    with popen([*argv, "--json", "--events"], tmp_path, env=env) as proc:
        event = json.loads(proc.stderr.readline())
        assert event["event"] == "submitted", event
        proc.send_signal(signal.SIGTERM)
        _stdout, stderr = proc.communicate(timeout=60)
    rid = event["request_id"]
    assert proc.returncode == 143, stderr
    report = json.loads(stderr.splitlines()[-1])
    assert report["details"]["request_id"] == rid and "Traceback" not in stderr
    later = run_genmedia("--sandbox", "status", SCHNELL, rid, "--json", timeout=120, cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    doc = json.loads(later.stdout)
    assert doc["request_id"] == rid and doc["status"] in ("IN_QUEUE", "IN_PROGRESS")
