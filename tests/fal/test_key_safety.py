"""The fal key goes only to configured fal hosts — never to a URL a journal or a server
handed us that points elsewhere."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import pytest

FLUX = "fal-ai/flux/schnell"


class Listener:
    """A raw TCP listener that records every request head it receives."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()
        self.heads: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.heads.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.mark.timeout(60)
def test_journal_urls_of_a_gone_host_never_get_the_key(
    cli, fresh_fal_sandbox, fal_sandbox_env, monkeypatch
):
    # A job recorded against another emulator (say, a --sandbox run) ...
    other = fresh_fal_sandbox
    other.register_key("REALKEY:topsecret")
    fal_sandbox_env.register_key("REALKEY:topsecret")
    env = {**other.env(), "FAL_KEY": "REALKEY:topsecret"}
    submitted = cli("run", FLUX, "--prompt", "cat", "--async", env=env)
    assert submitted.exit_code == 0, submitted
    port = urlsplit(other.base_url).port
    other.stop()
    # ... whose port is now taken by someone else.
    listener = Listener(port)
    try:
        monkeypatch.setenv("FAL_KEY", "REALKEY:topsecret")
        result = cli("status", "last")
    finally:
        listener.close()
    assert not any(b"topsecret" in head for head in listener.heads)
    assert listener.heads == []  # the job is looked up on today's queue host instead
    assert result.exit_code == 4  # ... which does not know it
    lookups = [r for r in fal_sandbox_env.requests if r.role == "queue"]
    assert lookups and all(r.has_authorization for r in lookups)


def test_auth_for_refuses_foreign_origins(fal_sandbox_env):
    from genmedia import errors
    from genmedia.context import AppContext
    from genmedia_fal.client import FalClient

    client = FalClient(AppContext())
    queue = fal_sandbox_env.urls["queue"]
    assert client.auth_for(queue + "/fal-ai/flux/requests/x/status")["Authorization"].startswith(
        "Key "
    )
    for url in ("http://127.0.0.1:1/x", "https://evil.example/fal-ai/flux", "http://localhost:1/"):
        with pytest.raises(errors.UsageError):
            client.auth_for(url)
