"""The documents genmedia installs and the marker that tells whose they are.

Each carries the SHA-256 of its content (a marker line, or the ``AGENTS.md`` block's begin
comment), so :func:`state_of_text` can tell current, outdated, modified and foreign text.
"""

from __future__ import annotations

import hashlib
import re

from genmedia import __version__

MARKER = re.compile(r"\n<!-- genmedia skill \S+ sha256:([0-9a-f]{64})[^\n]*-->(?:\n|\Z)")
BEGIN = re.compile(r"^<!-- genmedia:begin sha256:([0-9a-f]{64})[^\n]*-->\n", re.M)
ANY_BEGIN = re.compile(r"^<!-- genmedia:begin\b", re.M)
END = "<!-- genmedia:end -->"

AGENTS_BLOCK = """## genmedia

This project generates media with the `genmedia` CLI. Before using it, read
`.agents/skills/genmedia/SKILL.md` (workflow, JSON contract, exit codes). In short:

- pass `--json`: stdout is one JSON document; a failure exits non-zero and stderr ends with
  one JSON error object (`error`, `details`);
- `genmedia run "a prompt" --json` lets genmedia choose a model (see `routed` in the output);
  `genmedia models "<task>" --json` then `genmedia schema <endpoint_id> --json` to choose one;
- `--download ./out/` saves results (paths in `downloaded_files[]`); `--sandbox` rehearses
  offline and bills nothing.
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamped(body: str) -> str:
    """``body`` followed by genmedia's marker line (version and the body's SHA-256)."""
    body = body if body.endswith("\n") else body + "\n"
    return (
        f"{body}\n<!-- genmedia skill {__version__} sha256:{sha(body)} "
        "(written by `genmedia skills install`; edit it and reinstalls need --force) -->\n"
    )


def state_of_text(text: str | None, wanted: str) -> str:
    if text is None:
        return "missing"
    if text == wanted:
        return "current"
    found = list(MARKER.finditer(text))
    if not found:
        return "foreign"
    m = found[-1]  # the content is everything but the marker line (text added after counts)
    body = text[: m.start()] + "\n" * (m.start() > 0 and not text[: m.start()].endswith("\n"))
    body += text[m.end() :]
    return "outdated" if sha(body) == m.group(1) else "modified"


def skill_document() -> str:
    from genmedia_skills.render import skill_text

    return stamped(skill_text())


def cursor_document() -> str:
    from genmedia_skills.render import skill_text, split_front_matter

    meta, body = split_front_matter(skill_text())
    head = f"---\ndescription: {meta.get('description', 'genmedia')}\nalwaysApply: false\n---\n\n"
    return stamped(head + body)


def agents_block() -> str:
    return (
        f"<!-- genmedia:begin sha256:{sha(AGENTS_BLOCK)} (managed by `genmedia skills "
        f"install`; edit outside these markers) -->\n{AGENTS_BLOCK}{END}\n"
    )
