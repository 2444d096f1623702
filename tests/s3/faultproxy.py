"""A fault-injecting HTTP proxy in front of the S3 server (127.0.0.1 only).

Requests are forwarded unchanged (same Host header, so SigV4 signatures stay valid);
a rule answers matching requests with an S3 ``500 InternalError`` instead, ``count`` times
(``None``: every time). Enough to prove that a part is retried, and that an upload whose
part never lands is aborted and leaves no object.
"""

from __future__ import annotations

import http.client
import http.server
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)
HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection"}


@attrs.define
class Rule:
    method: str
    part: int | None = None
    count: int | None = None
    fired: int = 0

    def matches(self, method: str, query: dict[str, list[str]]) -> bool:
        if method != self.method or (self.count is not None and self.fired >= self.count):
            return False
        if self.part is not None and query.get("partNumber") != [str(self.part)]:
            return False
        self.fired += 1
        return True


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.rules: list[Rule] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
                with proxy.lock:
                    fault = any(rule.matches(self.command, query) for rule in proxy.rules)
                if fault:
                    self._reply(500, [("Content-Type", "application/xml")], ERROR)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP]
                kept = [(k, v) for k, v in kept if k.lower() != "content-length"]
                self._reply(answer.status, kept, data)
                conn.close()

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def fail(self, method: str, *, part: int | None = None, count: int | None = None) -> Rule:
        rule = Rule(method, part, count)
        with self.lock:
            self.rules.append(rule)
        return rule

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
