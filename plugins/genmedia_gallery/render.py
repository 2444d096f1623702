"""Cards → one self-contained HTML page (styles and script inline, no network resource).

Every piece of user- or server-controlled text (prompts, errors, endpoint ids, URLs,
paths) goes through :func:`html.escape` with ``quote=True``, in text and in attributes;
the script reads only ``data-`` attributes and sets only ``textContent`` and ``hidden``.
A Content-Security-Policy allows exactly the page's own script (by hash), so even a
markup mistake could not run injected code.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from html import escape
from importlib import resources

from genmedia_gallery.cards import Card, Media

STATUSES = ("completed", "failed", "cancelled", "pending")


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def _asset(name: str) -> str:
    return (resources.files("genmedia_gallery") / "static" / name).read_text("utf-8")


def _bytes(n: int | None) -> str | None:
    if not n:
        return None
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return None


_EXPIRING = '<span class="badge expiring" title="remote URL: may expire">remote · may expire</span>'


def _media_html(m: Media, alt: str) -> str:
    href = esc(m.href)
    badge = "" if m.local else _EXPIRING
    if m.kind == "image":
        body = f'<img src="{href}" alt="{esc(alt)}" loading="lazy" decoding="async">'
    elif m.kind == "video":
        body = f'<video src="{href}" controls preload="metadata" playsinline muted></video>'
    elif m.kind == "audio":
        body = f'<div class="wave"></div><audio src="{href}" controls preload="metadata"></audio>'
    elif m.kind == "3d":
        label = esc(m.json_path)
        body = (
            f'<a class="poster" href="{href}" download title="3D model ({label})">'
            f"<b>3D</b><span>open the model file</span></a>"
        )
    else:
        body = f'<a class="poster" href="{href}"><b>file</b><span>{esc(m.json_path)}</span></a>'
    return f'<div class="item" data-kind="{esc(m.kind)}">{body}{badge}</div>'


def _facts(card: Card) -> str:
    sizes = [s for s in (_bytes(m.size_bytes) for m in card.media) if s]
    rows: list[tuple[str, str | None]] = [
        ("seed", str(card.seed) if card.seed is not None else None),
        ("size", " · ".join(x for x in (card.size, ", ".join(sizes)) if x) or None),
        ("time", card.time + (f" ({card.duration_s:g} s)" if card.duration_s else "")),
        ("cost", card.cost),
        ("request", card.request_id),
        ("batch", card.batch),
    ]
    cells = []
    for key, value in rows:
        if value:
            cls = ' class="mono"' if key in ("request", "batch") else ""
            cells.append(f"<dt>{esc(key)}</dt><dd{cls}>{esc(value)}</dd>")
    return '<dl class="facts">' + "".join(cells) + "</dl>"


def card_html(card: Card, *, compact: bool = False) -> str:
    media = card.media
    if media:
        alt = (card.prompt or card.endpoint_id)[:200]
        inner = "".join(_media_html(m, alt) for m in media[:4])
        more = f'<div class="empty">+{len(media) - 4} more</div>' if len(media) > 4 else ""
        media_block = f'<div class="media n{min(len(media), 4)}">{inner}{more}</div>'
    else:
        what = "no media" if card.status == "completed" else esc(card.status)
        media_block = f'<div class="media"><div class="empty">{what}</div></div>'
    prompt = (
        f'<p class="prompt">{esc(card.prompt)}</p>'
        if card.prompt
        else '<p class="prompt none">no prompt</p>'
    )
    badges = f'<span class="badge {esc(card.status)}">{esc(card.status)}</span>'
    for mark in card.marks:
        badges += f'<span class="badge mark" data-mark="{esc(mark)}">{esc(mark)}</span>'
    error = f'<div class="error">{esc(card.error)}</div>' if card.error else ""
    compare = (
        f'<button class="compare" type="button" data-group="{esc(card.group)}">'
        "compare runs of this prompt</button>"
        if card.group and not compact
        else ""
    )
    search = " ".join(
        x for x in (card.prompt, card.endpoint_id, card.request_id, card.batch) if x
    ).lower()
    attrs = (
        f'data-search="{esc(search)}" data-model="{esc(card.endpoint_id)}" '
        f'data-kinds="{esc(" ".join(card.kinds))}" data-status="{esc(card.status)}" '
        f'data-date="{esc(card.date)}" data-request-id="{esc(card.request_id)}"'
    )
    return (
        f'<article class="card" {attrs}>{media_block}<div class="body">'
        f'<div class="row"><span class="model">{esc(card.endpoint_id)}</span>{badges}</div>'
        f"{'' if compact else prompt}{error}{_facts(card)}"
        f'<details class="cmd"><summary>command to run it again</summary>'
        f"<code>{esc(card.command)}</code></details>{compare}</div></article>"
    )


def _options(values: Iterable[str], everything: str) -> str:
    items = [f'<option value="">{esc(everything)}</option>']
    items += [f'<option value="{esc(v)}">{esc(v)}</option>' for v in values]
    return "".join(items)


def _groups_html(cards: Sequence[Card]) -> str:
    groups: dict[str, list[Card]] = {}
    for card in cards:
        if card.group:
            groups.setdefault(card.group, []).append(card)
    if not groups:
        return (
            '<p class="hint">No prompt has been run with more than one model or seed yet. '
            "Run the same prompt again with another model or seed to compare them here.</p>"
        )
    parts = []
    for group, members in groups.items():
        models = len({c.endpoint_id for c in members})
        title = esc(members[0].prompt or "")
        parts.append(
            f'<section class="group" id="group-{esc(group)}"><h2>{title} '
            f"<span>· {len(members)} runs, {models} model{'s' if models != 1 else ''}</span></h2>"
            f'<div class="strip">{"".join(card_html(c, compact=True) for c in members)}</div>'
            "</section>"
        )
    return "".join(parts)


def page(cards: Sequence[Card], *, title: str, generated: str) -> str:
    script = _asset("gallery.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    # Media may be local (relative links, file:) or remote (the provider's CDN, http(s)).
    csp = (
        "default-src 'none'; "
        f"script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
        "img-src 'self' file: data: blob: http: https:; "
        "media-src 'self' file: data: blob: http: https:; "
        "base-uri 'none'; form-action 'none'"
    )
    models = sorted({c.endpoint_id for c in cards})
    kinds = sorted({k for c in cards for k in c.kinds if k != "none"})
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="genmedia gallery">
<title>{esc(title)}</title>
<style>{_asset("gallery.css")}</style>
</head>
<body>
<header>
<div class="top">
<h1>{esc(title)}<small>{len(cards)} runs · built {esc(generated)}</small></h1>
<div class="tabs">
<button id="tab-all" type="button" aria-pressed="true">All runs</button>
<button id="tab-compare" type="button" aria-pressed="false">Side by side</button>
</div>
</div>
<div class="toolbar" role="search">
<input id="q" type="search" placeholder="Search prompts, models, request ids" aria-label="Search">
<select id="model" aria-label="Model">{_options(models, "all models")}</select>
<select id="kind" aria-label="Media type">{_options(kinds, "all media")}</select>
<select id="status" aria-label="Status">{_options(STATUSES, "any status")}</select>
<label>from <input id="from" type="date" aria-label="From date"></label>
<label>to <input id="to" type="date" aria-label="To date"></label>
<span id="count" aria-live="polite"></span>
</div>
</header>
<main>
<div id="all" class="grid">{"".join(card_html(c) for c in cards)}</div>
<div id="compare" hidden>{_groups_html(cards)}</div>
</main>
<script>{script}</script>
</body>
</html>
"""
