"""fal docs search over MCP (fal-api.md (h)): one JSON-RPC ``tools/call`` of ``search_fal``.

No handshake, no session and no key; the reply is a ``text/event-stream`` whose first
``data:`` line holds the JSON-RPC response. Each text item reads ``Title: …``,
``Link: …``, ``Content: …``.
"""

from __future__ import annotations

import json
from typing import Any

from genmedia import errors
from genmedia_fal import errors as fal_errors
from genmedia_fal.client import FalClient


def parse_item(text: str) -> dict[str, Any]:
    """One result text → ``{"title", "url", "content"}`` (upstream's rules)."""
    title, url = "Untitled", None
    for line in text.splitlines():
        if line.startswith("Title: ") and title == "Untitled":
            title = line[len("Title: ") :].strip() or "Untitled"
        elif line.startswith("Link: ") and url is None:
            url = line[len("Link: ") :].strip() or None
    _, found, rest = text.partition("Content: ")
    return {"title": title, "url": url, "content": (rest if found else text).strip()}


def first_data(body: str) -> Any:
    for line in body.splitlines():
        if line.startswith("data: ") or line.startswith("data:"):
            payload = line[5:].lstrip()
            try:
                return json.loads(payload)
            except ValueError:
                return None
    try:  # tolerate a plain JSON reply
        return json.loads(body)
    except ValueError:
        return None


def search_docs(client: FalClient, query: str) -> dict[str, Any]:
    url = client.host("docs")
    response = client.call(
        "POST",
        url,
        what="Docs search failed",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "search_fal", "arguments": {"query": query}},
        },
    )
    message = first_data(response.text)
    if message is None:
        raise fal_errors.fal_error(
            errors.RemoteError, "No results from docs search", {"query": query}
        )
    result = message.get("result") if isinstance(message, dict) else None
    content = result.get("content") if isinstance(result, dict) else None
    if not isinstance(content, list):
        details: dict[str, Any] = {"query": query}
        if isinstance(message, dict) and message.get("error"):
            details["body"] = message["error"]
        raise fal_errors.fal_error(errors.RemoteError, "No results", details)
    results = [
        parse_item(str(item.get("text", "")))
        for item in content
        if isinstance(item, dict) and item.get("type", "text") == "text"
    ]
    return {"query": query, "results": results, "count": len(results)}
