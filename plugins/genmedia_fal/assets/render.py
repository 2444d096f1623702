"""Pretty (TTY) views of the assets documents. rich is imported by the caller's console.

Each renderer takes the unstructured JSON document (the same one JSON mode prints) and a
rich Console.
"""

from __future__ import annotations

from typing import Any

from genmedia.output import render_mapping

_SKIP = {"sandbox"}
_NO_WRAP = {"vector_id", "id", "type", "field", "fav", "size"}


def _table(title: str | None, *columns: str) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold", show_edge=False)
    for column in columns:
        if column in _NO_WRAP:
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, overflow="fold")
    return table


def _star(value: Any) -> str:
    return "★" if value else ""


def _size(asset: dict[str, Any]) -> str:
    w, h = asset.get("width"), asset.get("height")
    return f"{w:g}×{h:g}" if isinstance(w, (int, float)) and isinstance(h, (int, float)) else ""


def _text(value: Any, limit: int = 60) -> str:
    if value is None:
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def assets_table(assets: list[dict[str, Any]], title: str | None = None) -> Any:
    table = _table(title, "vector_id", "type", "title / prompt", "size", "fav", "tags", "url")
    for a in assets:
        tags = ", ".join(t.get("name", t.get("id", "")) for t in a.get("tags") or [])
        table.add_row(
            a.get("vector_id", ""),
            a.get("type", ""),
            _text(a.get("prompt") or a.get("title")),
            _size(a),
            _star(a.get("is_favorited")),
            _text(tags, 30),
            a.get("url") or "",
        )
    return table


def browse(doc: dict[str, Any], console: Any) -> None:
    from rich.text import Text

    scope = doc.get("collection_id") or doc.get("section", "")
    title = f"Assets — {scope}" + (f" — “{doc['query']}”" if doc.get("query") else "")
    console.print(assets_table(doc.get("assets", []), title))
    total = doc.get("total_count")
    line = f"{doc.get('count', 0)} shown" + (
        f" of {total:g}" if isinstance(total, (int, float)) else ""
    )
    if doc.get("next_cursor"):
        line += f"; more with --cursor {doc['next_cursor']} (or --all)"
    console.print(Text(line, style="dim"))


def asset(doc: dict[str, Any], console: Any) -> None:
    single = doc.get("asset", doc)
    details(single, console, title=f"Asset {single.get('vector_id', '')}")


def details(obj: dict[str, Any], console: Any, title: str | None = None) -> None:
    """One object as a two-column table (lists and objects shown compactly)."""
    import json

    table = _table(title, "field", "value")
    for key, value in obj.items():
        if key in _SKIP:
            continue
        if key == "tags" and isinstance(value, list):
            value = ", ".join(
                str(t.get("name", t)) if isinstance(t, dict) else str(t) for t in value
            )
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


def tags(doc: dict[str, Any], console: Any) -> None:
    table = _table("Tags", "id", "name", "created_at")
    for t in doc.get("tags", []):
        table.add_row(t.get("id", ""), t.get("name", ""), t.get("created_at") or "")
    console.print(table)


def tag(doc: dict[str, Any], console: Any) -> None:
    details(doc.get("tag", doc), console, title="Tag")


def collections(doc: dict[str, Any], console: Any) -> None:
    table = _table("Collections", "id", "type", "name", "assets", "fav", "updated_at")
    for c in doc.get("collections", []):
        count = c.get("asset_count")
        table.add_row(
            c.get("id", ""),
            c.get("type", ""),
            _text(c.get("name")),
            "" if count is None else f"{count:g}",
            _star(c.get("is_favorited")),
            c.get("updated_at") or "",
        )
    console.print(table)


def collection(doc: dict[str, Any], console: Any) -> None:
    details(doc.get("collection", doc), console, title="Collection")


def characters(doc: dict[str, Any], console: Any) -> None:
    table = _table("Characters", "id", "name", "@identifier", "references", "fav", "description")
    for c in doc.get("characters", []):
        ident = c.get("character_identifier")
        table.add_row(
            c.get("id", ""),
            _text(c.get("name"), 30),
            f"@{ident}" if ident else "",
            str(len(c.get("reference_images") or [])),
            _star(c.get("is_favorited")),
            _text(c.get("description"), 50),
        )
    console.print(table)


def character(doc: dict[str, Any], console: Any) -> None:
    details(doc.get("character", doc), console, title="Character")


def message(text: str) -> Any:
    """A renderer printing one line (deletes, favorites, assignments)."""

    def render(doc: dict[str, Any], console: Any) -> None:
        console.print(text.format(**doc), markup=False)

    return render


def mapping(doc: Any, console: Any) -> None:
    render_mapping(doc, console)
