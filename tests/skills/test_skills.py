"""`genmedia init` / `genmedia skills …`: what is written, idempotency, --force, staleness."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import genmedia.errors as gerrors
from genmedia.testing import invoke
from genmedia_skills import documents
from genmedia_skills import install as inst
from genmedia_skills.render import SKILL, TEMPLATE, render_skill

SKILL_MD = Path(".agents/skills/genmedia/SKILL.md")
CURSOR = Path(".cursor/rules/genmedia.mdc")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The project directory (the test's GENMEDIA_HOME lives next to it, not inside)."""
    project = tmp_path / "project"
    project.mkdir()
    return project


def run(cli, root: Path, *args: str):
    return cli(*args, "--dir", str(root), "--json")


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file and link under root: (content or link target, inode, mtime)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            out[str(path.relative_to(root))] = (os.readlink(path), st.st_ino, st.st_mtime_ns)
        elif path.is_file():
            out[str(path.relative_to(root))] = (path.read_text(), st.st_ino, st.st_mtime_ns)
    return out


# --------------------------------------------------------------------------- the document


def test_skill_document_is_not_stale():
    """SKILL.md is generated from the template and `genmedia --help --json` (built-ins only);
    regenerate with GENMEDIA_UPDATE_DOCS=1 pytest tests/skills -k stale."""
    result = invoke(["--help", "--json"])
    assert result.exit_code == 0, result
    text = render_skill(result.json)
    if os.environ.get("GENMEDIA_UPDATE_DOCS"):
        SKILL.write_text(text, encoding="utf-8")
    assert SKILL.read_text(encoding="utf-8") == text, "SKILL.md is stale (see docstring)"


def test_skill_covers_every_command_and_exit_code():
    tree = invoke(["--help", "--json"]).json
    text = SKILL.read_text(encoding="utf-8")
    for name, node in tree["commands"].items():
        assert f"`genmedia {name}" in text, name
        for sub in node.get("commands") or {}:
            assert f"`genmedia {name} {sub}" in text, (name, sub)
    codes = {v for k, v in vars(gerrors).items() if k.startswith("EXIT_")}
    table = {int(m) for m in re.findall(r"^\| (\d+) \|", text, re.M)}
    assert codes == table, "the template's exit-code table differs from genmedia.errors"
    # the front matter agents need
    assert text.startswith("---\nname: genmedia\ndescription: ")
    assert "<!-- genmedia:commands -->" in TEMPLATE.read_text(encoding="utf-8")


def test_show_prints_the_document(cli):
    doc = cli("skills", "show", "--json").json
    assert doc["name"] == "genmedia" and doc["text"] == SKILL.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- install


def test_install_writes_every_target(cli, root):
    result = run(cli, root, "skills", "install")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    doc = result.json
    assert doc["changed"] is True and doc["root"] == str(root.resolve())
    assert [(f["target"], f["action"]) for f in doc["files"]] == [
        ("skill", "created"),
        ("claude", "created"),
        ("cursor", "created"),
        ("agents-md", "created"),
    ]
    skill = (root / SKILL_MD).read_text()
    assert skill.startswith(SKILL.read_text()) and "sha256:" in skill.splitlines()[-1]
    link = root / ".claude/skills/genmedia"
    assert link.is_symlink() and os.readlink(link) == "../../.agents/skills/genmedia"
    assert (link / "SKILL.md").read_text() == skill
    cursor = (root / CURSOR).read_text()
    assert cursor.startswith("---\ndescription: Generate images") and "alwaysApply: false" in cursor
    agents = (root / "AGENTS.md").read_text()
    assert agents.startswith("<!-- genmedia:begin sha256:") and agents.endswith(
        "<!-- genmedia:end -->\n"
    )
    assert ".agents/skills/genmedia/SKILL.md" in agents


def test_rerun_changes_nothing(cli, root):
    (root / "AGENTS.md").write_text("# House rules\n\nBe kind.\n")
    assert run(cli, root, "init").exit_code == 0
    before = snapshot(root)
    again = run(cli, root, "skills", "install")
    assert again.exit_code == 0, again
    assert again.json["changed"] is False
    assert {f["action"] for f in again.json["files"]} == {"unchanged"}
    assert snapshot(root) == before  # same bytes, same inodes, same mtimes
    agents = (root / "AGENTS.md").read_text()
    assert agents.startswith("# House rules\n\nBe kind.\n\n<!-- genmedia:begin")
    assert agents.count("genmedia:begin") == 1


def test_targets_choose_what_is_written(cli, root):
    result = run(cli, root, "skills", "install", "--targets", "cursor")
    assert [f["target"] for f in result.json["files"]] == ["skill", "cursor"]
    assert not (root / ".claude").exists() and not (root / "AGENTS.md").exists()
    bad = run(cli, root, "skills", "install", "--targets", "claude,vim")
    assert bad.exit_code == 2
    assert bad.error["error"] == "Unknown --targets value: vim"
    assert "agents-md" in bad.error["details"]["choices"]


def test_a_modified_copy_is_kept_unless_force(cli, root):
    assert run(cli, root, "skills", "install", "--targets", "claude").exit_code == 0
    skill = root / SKILL_MD
    skill.write_text(skill.read_text().replace("# genmedia", "# genmedia (our notes)"))
    edited = skill.read_text()
    result = run(cli, root, "skills", "install")
    assert result.exit_code == 1, result
    assert result.error["error"].startswith("Refusing to overwrite")
    assert result.error["details"]["conflicts"] == [
        {"target": "skill", "path": str(SKILL_MD), "state": "modified"}
    ]
    assert "--force" in result.error["details"]["hint"]
    # checked before writing anything: the other targets were not written either
    assert skill.read_text() == edited
    assert not (root / CURSOR).exists() and not (root / "AGENTS.md").exists()
    listing = run(cli, root, "skills", "list").json
    assert {f["target"]: f["state"] for f in listing["files"]} == {
        "skill": "modified",
        "claude": "current",
        "cursor": "missing",
        "agents-md": "missing",
    }
    forced = run(cli, root, "skills", "install", "--force")
    assert forced.exit_code == 0, forced
    assert forced.json["files"][0]["action"] == "replaced"
    assert skill.read_text().startswith(SKILL.read_text())


def test_text_added_after_the_marker_counts_as_a_change(cli, root):
    run(cli, root, "skills", "install", "--targets", "cursor")
    rule = root / CURSOR
    rule.write_text(rule.read_text() + "Also: prefer flux.\n")
    assert run(cli, root, "skills", "install").exit_code == 1


def test_an_edited_agents_block_is_kept_unless_force(cli, root):
    (root / "AGENTS.md").write_text("# Rules\n")
    run(cli, root, "skills", "install", "--targets", "agents-md")
    path = root / "AGENTS.md"
    path.write_text(path.read_text().replace("In short:", "In short (ours):") + "\n## After\n")
    result = run(cli, root, "skills", "install", "--targets", "agents-md")
    assert result.exit_code == 1
    assert result.error["details"]["conflicts"][0]["target"] == "agents-md"
    forced = run(cli, root, "skills", "install", "--targets", "agents-md", "--force")
    assert forced.exit_code == 0, forced
    text = path.read_text()
    assert "(ours)" not in text and text.startswith("# Rules\n") and text.endswith("## After\n")
    assert text.count("genmedia:begin") == 1


def test_a_damaged_agents_block_is_an_error_even_with_force(cli, root):
    (root / "AGENTS.md").write_text("<!-- genmedia:begin sha256:x -->\nhalf a block\n")
    result = run(cli, root, "skills", "install", "--force")
    assert result.exit_code == 1
    assert "damaged genmedia block" in result.error["error"]
    assert not (root / SKILL_MD).exists()


def test_a_foreign_claude_skill_is_kept_unless_force(cli, root):
    mine = root / ".claude/skills/genmedia"
    mine.mkdir(parents=True)
    (mine / "notes.md").write_text("mine")
    result = run(cli, root, "skills", "install", "--targets", "claude")
    assert result.exit_code == 1
    assert result.error["details"]["conflicts"][0]["state"] == "foreign"
    assert (mine / "notes.md").read_text() == "mine"
    forced = run(cli, root, "skills", "install", "--targets", "claude", "--force")
    assert forced.exit_code == 0
    assert mine.is_symlink()


def test_an_older_genmedia_copy_is_updated_without_force(cli, root):
    skill = root / SKILL_MD
    skill.parent.mkdir(parents=True)
    skill.write_text(documents.stamped("---\nname: genmedia\n---\n\nan older version\n"))
    result = run(cli, root, "skills", "install", "--targets", "cursor")
    assert result.exit_code == 0, result
    assert result.json["files"][0]["action"] == "updated"
    assert skill.read_text() == documents.skill_document()


def test_remove_undoes_install(cli, root):
    (root / "AGENTS.md").write_text("# Rules\n")
    (root / ".cursor/rules").mkdir(parents=True)
    (root / ".cursor/rules/other.mdc").write_text("x")
    run(cli, root, "init")
    result = run(cli, root, "skills", "remove")
    assert result.exit_code == 0, result
    assert {f["action"] for f in result.json["files"]} == {"removed"}
    assert (root / "AGENTS.md").read_text() == "# Rules\n"
    assert not (root / ".agents").exists() and not (root / ".claude").exists()
    assert (root / ".cursor/rules/other.mdc").exists()  # not ours: kept
    again = run(cli, root, "skills", "remove")
    assert again.json["changed"] is False


def test_remove_keeps_modified_files_unless_force(cli, root):
    run(cli, root, "init")
    rule = root / CURSOR
    rule.write_text("my own rule\n")
    result = run(cli, root, "skills", "remove", "--targets", "cursor")
    assert result.exit_code == 1 and rule.exists()
    forced = run(cli, root, "skills", "remove", "--targets", "cursor", "--force")
    assert forced.exit_code == 0 and not rule.exists()
    assert (root / SKILL_MD).exists()  # only the chosen target went


def test_pretty_output_lists_each_file(cli, root, monkeypatch):
    monkeypatch.setenv("GENMEDIA_OUTPUT", "pretty")
    result = cli("init", "--dir", str(root))
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == f"project: {root.resolve()}"
    assert any(line.split() == ["created", "AGENTS.md"] for line in lines)


def test_dir_must_exist(cli, root):
    result = cli("init", "--dir", str(root / "nope"), "--json")
    assert result.exit_code == 2
    assert result.error["error"].startswith("Not a directory")


def test_nothing_is_fetched(cli, root, monkeypatch):
    """Offline: with every proxy pointing nowhere and no network, install still works."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("skills install opened a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert run(cli, root, "init").exit_code == 0


@pytest.mark.parametrize("target", inst.TARGETS)
def test_each_target_alone_is_idempotent(cli, root, target):
    first = run(cli, root, "skills", "install", "--targets", target)
    assert first.exit_code == 0, first
    before = snapshot(root)
    second = run(cli, root, "skills", "install", "--targets", target)
    assert second.json["changed"] is False and snapshot(root) == before
    assert json.loads(second.stdout)["files"][-1]["target"] == target


def test_parallel_installs_agree(root):
    """Several agents running `genmedia init` at once in one project: all succeed, one
    block in AGENTS.md, one link, and the result is what a single run writes."""
    import subprocess
    import sys

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "genmedia", "init", "--dir", str(root), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert json.loads(out)["root"] == str(root.resolve())
    assert (root / "AGENTS.md").read_text() == documents.agents_block()
    assert os.readlink(root / ".claude/skills/genmedia") == "../../.agents/skills/genmedia"
    assert (root / SKILL_MD).read_text() == documents.skill_document()


def test_a_symlinked_agents_md_stays_a_link(cli, root):
    """AGENTS.md -> CLAUDE.md is a common setup: the block goes into CLAUDE.md."""
    (root / "CLAUDE.md").write_text("# Project notes\n")
    (root / "AGENTS.md").symlink_to("CLAUDE.md")
    assert run(cli, root, "skills", "install", "--targets", "agents-md").exit_code == 0
    assert (root / "AGENTS.md").is_symlink()
    text = (root / "CLAUDE.md").read_text()
    assert text.startswith("# Project notes\n\n<!-- genmedia:begin")
    assert run(cli, root, "skills", "install").json["files"][-1]["action"] == "unchanged"
    assert run(cli, root, "skills", "remove").exit_code == 0
    assert (root / "AGENTS.md").is_symlink()
    assert (root / "CLAUDE.md").read_text() == "# Project notes\n"
