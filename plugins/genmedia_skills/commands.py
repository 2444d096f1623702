"""``genmedia init`` and ``genmedia skills install|list|remove|show``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from genmedia.cli import get_app
from genmedia.output import emit, esc

TARGETS_HELP = "Comma-separated: claude, cursor, agents-md (default: all)."


def _root(directory: str | None) -> Path:
    from genmedia import errors

    root = Path(directory or ".").expanduser()
    if not root.is_dir():
        raise errors.UsageError(f"Not a directory: {root}", {"dir": str(root)})
    return root.resolve()


def _render(doc: dict[str, Any], console: Any) -> None:
    console.print(f"[dim]project:[/] {esc(doc['root'])}", markup=True)
    for change in doc["files"]:
        note = f" [dim]({esc(change['detail'])})[/]" if change.get("detail") else ""
        word = change.get("action") or change.get("state") or ""
        console.print(f"  {esc(word):<10} {esc(change['path'])}{note}", markup=True)


dir_option = click.option(
    "--dir", "directory", metavar="DIR", help="The project directory (default: the current one)."
)
targets_option = click.option("--targets", metavar="LIST", help=TARGETS_HELP)
force_option = click.option(
    "--force", is_flag=True, help="Overwrite (or remove) copies that were changed locally."
)


def _install(directory: str | None, targets: str | None, force: bool) -> None:
    from genmedia_skills.install import install, parse_targets

    app = get_app(click.get_current_context())
    report = install(_root(directory), parse_targets(targets), force=force)
    emit(app, report, pretty=_render)


@click.group("skills")
def skills() -> None:
    """Install genmedia's skill document where coding agents read it.

    The skill (workflow, JSON contract, exit codes, the command list) ships with genmedia;
    nothing is fetched. It goes to .agents/skills/genmedia/SKILL.md, is linked into
    .claude/skills/, written as a Cursor rule and summarised in an AGENTS.md block.
    Reruns change nothing; locally edited copies are kept unless --force.
    """


@skills.command("install")
@targets_option
@force_option
@dir_option
def skills_install(targets: str | None, force: bool, directory: str | None) -> None:
    """Install (or update) the skill for the chosen agents."""
    _install(directory, targets, force)


@skills.command("list")
@dir_option
def skills_list(directory: str | None) -> None:
    """Show where the skill is installed: current, outdated, modified, foreign or missing."""
    from genmedia_skills.install import status

    app = get_app(click.get_current_context())
    emit(app, status(_root(directory)), pretty=_render)


@skills.command("remove")
@targets_option
@force_option
@dir_option
def skills_remove(targets: str | None, force: bool, directory: str | None) -> None:
    """Remove what install wrote (all of it when no --targets is given)."""
    from genmedia_skills.install import parse_targets, remove

    app = get_app(click.get_current_context())
    chosen = parse_targets(targets) if targets is not None else None
    emit(app, remove(_root(directory), chosen, force=force), pretty=_render)


@skills.command("show")
def skills_show() -> None:
    """Print the skill document (JSON: {"name", "description", "text"})."""
    from genmedia_skills.render import skill_text, split_front_matter

    app = get_app(click.get_current_context())
    text = skill_text()
    meta, _body = split_front_matter(text)
    doc = {"name": meta.get("name"), "description": meta.get("description"), "text": text}
    emit(app, doc, pretty=lambda d, console: console.print(d["text"]))


@click.command("init")
@targets_option
@force_option
@dir_option
def init(targets: str | None, force: bool, directory: str | None) -> None:
    """Set up this project for coding agents: install genmedia's skill.

    The same as `genmedia skills install` (see its help). Then give the agent a key
    (`genmedia setup`) or let it rehearse offline with --sandbox.
    """
    _install(directory, targets, force)
