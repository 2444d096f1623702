"""Install, list and remove genmedia's skill in a project, idempotently.

What goes where (paths relative to the project directory):

- ``.agents/skills/genmedia/SKILL.md``: the skill document (always; the others point to it);
- ``claude``: ``.claude/skills/genmedia`` → a relative symlink to ``../../.agents/skills/genmedia``
  (a managed copy where the system cannot make symlinks);
- ``cursor``: ``.cursor/rules/genmedia.mdc``, a Cursor rule with the skill's text;
- ``agents-md``: a block between ``<!-- genmedia:begin … -->`` and ``<!-- genmedia:end -->``
  in ``AGENTS.md`` (created if needed; the rest of the file is never touched; a symlinked
  ``AGENTS.md`` is followed and stays a link).

Every file genmedia writes carries the SHA-256 of its content in a marker comment, so a
rerun can tell *current* (nothing to do), *outdated* (written by genmedia, since changed
upstream: rewritten), *modified* (edited locally) and *foreign* (not genmedia's). Modified
and foreign files are never overwritten without ``--force``; the whole plan is checked
before anything is written. Writes are atomic. Nothing is fetched: the document ships with
genmedia.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

from genmedia import errors
from genmedia.files import atomic_write
from genmedia_skills.documents import (
    ANY_BEGIN,
    BEGIN,
    END,
    agents_block,
    cursor_document,
    sha,
    skill_document,
    state_of_text,
)

TARGETS = ("claude", "cursor", "agents-md")
SKILL_DIR = Path(".agents/skills/genmedia")
SKILL_PATH = SKILL_DIR / "SKILL.md"
CLAUDE_LINK = Path(".claude/skills/genmedia")
CLAUDE_TARGET = Path("../../.agents/skills/genmedia")
CURSOR_RULE = Path(".cursor/rules/genmedia.mdc")
AGENTS_MD = Path("AGENTS.md")
#: Directories removed by ``skills remove`` when they are left empty.
PRUNE = (
    SKILL_DIR,
    SKILL_DIR.parent,
    SKILL_DIR.parent.parent,
    CLAUDE_LINK.parent,
    CLAUDE_LINK.parent.parent,
    CURSOR_RULE.parent,
    CURSOR_RULE.parent.parent,
)


@attrs.frozen
class Change:
    """One file (or link) of the install: what genmedia did or found."""

    target: str
    path: str
    action: str
    detail: str | None = None


@attrs.frozen
class Report:
    """The output of ``skills install|remove`` and ``init``."""

    root: str
    files: list[Change]
    changed: bool


@attrs.frozen
class Found:
    """One row of ``skills list``: ``state`` is current, outdated, modified, foreign or
    missing."""

    target: str
    path: str
    state: str
    detail: str | None = None


@attrs.frozen
class Listing:
    """The output of ``skills list``."""

    root: str
    files: list[Found]
    installed: bool


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.GenmediaError(f"Cannot read {path}: {exc}", {"path": str(path)}) from None


@attrs.define
class Step:
    """A planned change: its state now and how to bring it to what genmedia wants."""

    target: str
    path: Path
    state: str
    apply: Callable[[], str] | None = None
    detail: str | None = None


# --------------------------------------------------------------------------- planning


def _write(path: Path, text: str) -> Callable[[], str]:
    def run() -> str:
        existed = path.exists() or path.is_symlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_dir():
            _remove(path)
        atomic_write(path, text, mode=0o644)
        return "updated" if existed else "created"

    return run


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _file_step(target: str, root: Path, rel: Path, wanted: str) -> Step:
    path = root / rel
    if path.is_symlink() or path.is_dir():
        return Step(target, rel, "foreign", _write(path, wanted), "not a regular file")
    return Step(target, rel, state_of_text(_read(path), wanted), _write(path, wanted))


def _claude_step(root: Path) -> Step:
    link = root / CLAUDE_LINK
    wanted = skill_document()

    def run() -> str:
        existed = link.exists() or link.is_symlink()
        if existed:
            _remove(link)
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(CLAUDE_TARGET, link, target_is_directory=True)
        except FileExistsError:
            # another genmedia process made it in the meantime
            if link.is_symlink() and Path(os.readlink(link)) == CLAUDE_TARGET:
                return "unchanged"
            raise errors.GenmediaError(
                f"{CLAUDE_LINK} appeared while installing", {"path": str(link)}
            ) from None
        except (OSError, NotImplementedError):
            # no symlinks here (Windows without developer mode): a managed copy instead
            link.mkdir()
            atomic_write(link / "SKILL.md", wanted, mode=0o644)
            return "copied"
        return "updated" if existed else "created"

    if link.is_symlink():
        if Path(os.readlink(link)) == CLAUDE_TARGET:
            return Step("claude", CLAUDE_LINK, "current", run)
        return Step("claude", CLAUDE_LINK, "foreign", run, f"links to {os.readlink(link)}")
    if link.is_dir():
        names = sorted(p.name for p in link.iterdir())
        if names == ["SKILL.md"]:
            state = state_of_text(_read(link / "SKILL.md"), wanted)
            # a copy genmedia made earlier: still ours (try the link again when outdated)
            return Step("claude", CLAUDE_LINK, state, run, "a copy, not a link")
        return Step("claude", CLAUDE_LINK, "foreign", run, "a directory genmedia did not write")
    if link.exists():
        return Step("claude", CLAUDE_LINK, "foreign", run, "not a directory")
    return Step("claude", CLAUDE_LINK, "missing", run)


def _agents_path(root: Path) -> Path:
    """AGENTS.md, or the file it links to (``AGENTS.md -> CLAUDE.md`` is common): the block
    goes into that file and the link stays."""
    path = root / AGENTS_MD
    return path.resolve() if path.is_symlink() else path


def _agents_step(root: Path) -> Step:
    path = _agents_path(root)
    text = _read(path)
    block = agents_block()
    if text is None:
        return Step("agents-md", AGENTS_MD, "missing", _write(path, block))
    begins = ANY_BEGIN.findall(text)
    if not begins:

        def append() -> str:
            sep = "" if not text.strip() else ("\n" if text.endswith("\n") else "\n\n")
            atomic_write(path, text + sep + block, mode=_mode(path))
            return "updated"

        return Step("agents-md", AGENTS_MD, "missing", append, "block appended")
    m = BEGIN.search(text)
    end = text.find(END, m.end()) if m else -1
    if len(begins) != 1 or m is None or end < 0:
        raise errors.GenmediaError(
            f"{AGENTS_MD} has a damaged genmedia block (markers missing or repeated)",
            {
                "path": str(path),
                "hint": f"fix or delete the lines from '<!-- genmedia:begin' to '{END}' by "
                "hand, then rerun genmedia skills install",
            },
        )
    stop = end + len(END)
    stop += 1 if text[stop : stop + 1] == "\n" else 0
    current = text[m.start() : stop]
    inner = text[m.end() : end]

    def replace() -> str:
        atomic_write(path, text[: m.start()] + block + text[stop:], mode=_mode(path))
        return "updated"

    if current == block:
        state = "current"
    else:
        state = "outdated" if sha(inner) == m.group(1) else "modified"
    return Step("agents-md", AGENTS_MD, state, replace)


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644


def plan(root: Path, targets: Iterable[str]) -> list[Step]:
    """What an install would do, target by target (the skill document first)."""
    steps = [_file_step("skill", root, SKILL_PATH, skill_document())]
    for target in targets:
        if target == "claude":
            steps.append(_claude_step(root))
        elif target == "cursor":
            steps.append(_file_step("cursor", root, CURSOR_RULE, cursor_document()))
        elif target == "agents-md":
            steps.append(_agents_step(root))
    return steps


def _refuse(root: Path, conflicts: list[Step], verb: str) -> errors.GenmediaError:
    listed = ", ".join(
        f"{s.path} ({s.state}{': ' + s.detail if s.detail else ''})" for s in conflicts
    )
    return errors.GenmediaError(
        f"Refusing to {verb} what was changed outside genmedia: {listed}",
        {
            "root": str(root),
            "conflicts": [Found(s.target, str(s.path), s.state, s.detail) for s in conflicts],
            "hint": f"save your changes elsewhere, or rerun with --force to {verb} them anyway",
        },
    )


def install(root: Path, targets: Iterable[str], *, force: bool = False) -> Report:
    """Install the skill for ``targets``; refuse (before writing anything) to overwrite
    modified or foreign files unless ``force``."""
    steps = plan(root, targets)
    conflicts = [s for s in steps if s.state in ("modified", "foreign")]
    if conflicts and not force:
        raise _refuse(root, conflicts, "overwrite")
    changes = []
    for step in steps:
        if step.state == "current" or step.apply is None:
            changes.append(Change(step.target, str(step.path), "unchanged", step.detail))
            continue
        action = step.apply()
        if step.state in ("modified", "foreign"):
            action = "replaced"
        changes.append(Change(step.target, str(step.path), action, step.detail))
    return Report(str(root), changes, any(c.action != "unchanged" for c in changes))


def status(root: Path) -> Listing:
    """The state of every target (``current``, ``outdated``, ``modified``, ``foreign``,
    ``missing``), without changing anything."""
    rows = [Found(s.target, str(s.path), s.state, s.detail) for s in plan(root, TARGETS)]
    return Listing(str(root), rows, rows[0].state != "missing")


def remove(root: Path, targets: Iterable[str] | None, *, force: bool = False) -> Report:
    """Remove what ``install`` wrote for ``targets`` (all, and the skill document, when
    None); modified or foreign files only with ``force``. Empty directories are pruned."""
    chosen = TARGETS if targets is None else tuple(targets)
    steps = [s for s in plan(root, chosen) if targets is None or s.target != "skill"]
    conflicts = [s for s in steps if s.state in ("modified", "foreign")]
    if conflicts and not force:
        raise _refuse(root, conflicts, "remove")
    changes = []
    for step in steps:
        if step.state == "missing":  # (for AGENTS.md: no genmedia block in it)
            changes.append(Change(step.target, str(step.path), "absent"))
            continue
        if step.target == "agents-md":
            _remove_block(_agents_path(root), keep=(root / AGENTS_MD).is_symlink())
        else:
            _remove(root / step.path)
        changes.append(Change(step.target, str(step.path), "removed"))
    for rel in PRUNE:
        try:
            (root / rel).rmdir()
        except OSError:
            pass
    return Report(str(root), changes, any(c.action == "removed" for c in changes))


def _remove_block(path: Path, *, keep: bool) -> None:
    text = _read(path) or ""
    m = ANY_BEGIN.search(text)
    end = text.find(END, m.end()) if m else -1
    if m is None or end < 0:
        return
    stop = end + len(END)
    stop += 1 if text[stop : stop + 1] == "\n" else 0
    rest = (text[: m.start()].rstrip("\n") + "\n" + text[stop:].lstrip("\n")).strip("\n")
    if not rest.strip() and not keep:
        path.unlink()
    else:
        atomic_write(path, rest + "\n" if rest.strip() else "", mode=_mode(path))


def parse_targets(value: str | None) -> tuple[str, ...]:
    """``"claude,cursor"`` → ``("claude", "cursor")``; None or ``all`` → every target."""
    if value is None or value.strip().lower() == "all":
        return TARGETS
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown or not names:
        raise errors.UsageError(
            f"Unknown --targets value: {', '.join(unknown) or repr(value)}",
            {"choices": [*TARGETS, "all"], "hint": "--targets claude,cursor,agents-md"},
        )
    return tuple(dict.fromkeys(names))
