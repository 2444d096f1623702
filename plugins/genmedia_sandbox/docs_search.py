"""docs.fal.ai/mcp emulation: JSON-RPC ``tools/call`` → ``search_fal`` over a bundled corpus.

The reply is ``text/event-stream`` with one ``event: message`` / ``data: {...}``
event holding the JSON-RPC response, like the Mintlify-hosted MCP server. Each
content item is ``Title: …\\nLink: …\\nContent: …``. The corpus
(``data/docs_corpus.json``) was written for the sandbox: short summaries of fal
topics, not copies of fal's pages.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .responses import read_json

if TYPE_CHECKING:
    from .state import Sandbox

CORPUS = Path(__file__).parent / "data" / "docs_corpus.json"
PAGE_SIZE = 5


@lru_cache(maxsize=1)
def corpus() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads(CORPUS.read_text())
    return entries


def search(query: str, limit: int = PAGE_SIZE) -> list[dict[str, str]]:
    words = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 1]
    scored = []
    for index, entry in enumerate(corpus()):
        title = entry["title"].lower()
        text = (entry["title"] + " " + entry["content"] + " " + entry.get("keywords", "")).lower()
        score = sum(3 * (w in title) + text.count(w) for w in words)
        if score:
            scored.append((-score, index, entry))
    scored.sort()
    return [entry for _, _, entry in scored[:limit]]


def _sse(payload: dict[str, Any]) -> Response:
    text = "event: message\ndata: " + json.dumps(payload) + "\n\n"
    return Response(text, 200, media_type="text/event-stream")


async def handle(sandbox: Sandbox, request: Request) -> Response:
    if request.method != "POST":
        return JSONResponse({"error": "POST a JSON-RPC request"}, 405)
    body, error = await read_json(request)
    rpc_id = body.get("id") if isinstance(body, dict) else None
    if error is not None or not isinstance(body, dict):
        return _sse(
            {"jsonrpc": "2.0", "id": rpc_id, "error": {"code": -32700, "message": "Parse error"}}
        )
    method = body.get("method")
    if method == "initialize":
        return _sse({"jsonrpc": "2.0", "id": rpc_id, "result": {
            "protocolVersion": "2025-03-26", "capabilities": {"tools": {}},
            "serverInfo": {"name": "genmedia-sandbox-docs", "version": "1.0"}}})  # fmt: skip
    if method == "tools/list":
        tool = {"name": "search_fal", "description": "Search the fal docs (sandbox corpus)",
                "inputSchema": {"type": "object", "properties": {"query": {"type": "string"}},
                                "required": ["query"]}}  # fmt: skip
        return _sse({"jsonrpc": "2.0", "id": rpc_id, "result": {"tools": [tool]}})
    params = body.get("params") or {}
    if method != "tools/call" or params.get("name") != "search_fal":
        return _sse(
            {
                "jsonrpc": "2.0",
                "id": rpc_id,
                "error": {"code": -32601, "message": "Method not found"},
            }
        )
    query = str((params.get("arguments") or {}).get("query") or "")
    size = (params.get("arguments") or {}).get("pageSize") or PAGE_SIZE
    content = [
        {"type": "text", "text": f"Title: {e['title']}\nLink: {e['url']}\nContent: {e['content']}"}
        for e in search(query, int(size))
    ]
    return _sse({"jsonrpc": "2.0", "id": rpc_id, "result": {"content": content}})
