"""Every shell block in docs/ marked runnable is run, so no example can rot.

Marker: the line ``<!-- runnable -->`` (or ``<!-- runnable: own-sandbox -->``) right before
a fenced ``bash`` block. Each block runs with ``bash -euo pipefail`` in a fresh temporary
directory, with its own GENMEDIA_HOME, no fal key, the example plugin installed, and
``GENMEDIA_SANDBOX=1`` (every command against the offline emulator) unless the marker says
``own-sandbox`` (the block starts ``genmedia sandbox serve`` itself). The block runs in a
process group of its own: anything still running when it ends fails the test and is killed.
See docs/install.md, "Docs that run".
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core.sitepkgs import install_example

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- runnable(?::\s*(?P<mode>[\w-]+))? -->\s*$")
MODES = (None, "own-sandbox")


def runnable_blocks() -> list[tuple[str, int, str | None, str]]:
    """(file, line, mode, code) of every marked block."""
    found = []
    for path in sorted((ROOT / "docs").rglob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = MARKER.match(line)
            if not m:
                continue
            rel = str(path.relative_to(ROOT))
            assert i + 1 < len(lines) and lines[i + 1].strip() == "```bash", (
                f"{rel}:{i + 1}: the runnable marker must be right before a ```bash fence"
            )
            assert m.group("mode") in MODES, f"{rel}:{i + 1}: unknown mode {m.group('mode')}"
            end = next(j for j in range(i + 2, len(lines)) if lines[j].strip() == "```")
            found.append((rel, i + 1, m.group("mode"), "\n".join(lines[i + 2 : end]) + "\n"))
    return found


BLOCKS = runnable_blocks()


def test_the_docs_have_runnable_blocks():
    files = {b[0] for b in BLOCKS}
    assert {"docs/index.md", "docs/install.md", "docs/plugins/tutorial.md"} <= files


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    return True


def run_block(code: str, mode: str | None, tmp_path: Path) -> tuple[int, str, str, bool]:
    """Run one block as described in the module docstring: (exit code, stdout, stderr,
    whether processes were left running)."""
    work = tmp_path / "work"
    work.mkdir()
    site = tmp_path / "site"
    install_example(site)
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("GENMEDIA_", "FAL_")) or k in ("PAGER", "COLUMNS"))
    }
    bindir = str(Path(sys.executable).parent)
    env.update(
        GENMEDIA_HOME=str(tmp_path / "home"),
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p),
        HOME=str(tmp_path / "user"),
    )
    if mode != "own-sandbox":
        env["GENMEDIA_SANDBOX"] = "1"
    # files, not pipes: a background process left behind must not block reading them
    out_file, err_file = tmp_path / "stdout", tmp_path / "stderr"
    with out_file.open("w") as out_fh, err_file.open("w") as err_fh:
        proc = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", code],
            cwd=work, env=env, stdout=out_fh, stderr=err_fh,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    leftover = False
    try:
        proc.wait(timeout=180)
    finally:
        for _ in range(50):  # a process may still be exiting after its trap ran (loaded CI)
            if not _alive(proc.pid):
                break
            time.sleep(0.1)
        else:
            leftover = True
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out_file.read_text(), err_file.read_text(), leftover


@pytest.mark.parametrize(
    ("doc", "line", "mode", "code"), BLOCKS, ids=[f"{b[0]}:{b[1]}" for b in BLOCKS]
)
def test_runnable_block(doc, line, mode, code, tmp_path):
    returncode, out, err, leftover = run_block(code, mode, tmp_path)
    where = f"{doc}:{line}"
    assert returncode == 0, f"{where} failed ({returncode})\n{out}\n{err}"
    assert not leftover, f"{where} left processes running (stop what the block starts)"
    assert "Traceback" not in err, f"{where}\n{err}"


def test_a_block_that_leaves_a_process_running_is_caught(tmp_path):
    returncode, _out, _err, leftover = run_block("sleep 60 &\necho started\n", None, tmp_path)
    assert returncode == 0 and leftover


def test_a_failing_command_fails_the_block(tmp_path):
    code = "genmedia run fal-ai/flux/schnell --num_images 99 --prompt x > /dev/null\necho no\n"
    returncode, out, _err, _leftover = run_block(code, None, tmp_path)
    assert returncode == 5 and "no" not in out
