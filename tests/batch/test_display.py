"""The progress display: on a terminal's stderr only; pipes and agents get none."""

from __future__ import annotations

import io

from click.testing import CliRunner

from genmedia.cli import make_cli
from genmedia.context import AppContext
from genmedia_batch.display import Counts

from .conftest import ndjson, write_jobs


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_counts_line():
    counts = Counts(10)
    counts.add(done=3, failed=1, running=2)
    line = counts.line()
    assert "3 done" in line and "2 running" in line and "4 queued" in line
    assert "1 failed" in line and "jobs/s" in line and "ETA" in line


def test_a_terminal_gets_the_live_line_and_stdout_keeps_ndjson(fal_sandbox_env, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.jsonl", 3)
    terminal = Terminal()
    result = CliRunner().invoke(
        make_cli(), ["batch", str(jobs)], obj=AppContext(autoload=False, stderr=terminal)
    )
    assert result.exit_code == 0, result.output
    assert ndjson(result.stdout)[1]["counts"] == {"completed": 3}
    assert "done" in terminal.getvalue() and "jobs/s" in terminal.getvalue()


def test_no_display_off_a_terminal(cli, fal_sandbox_env, tmp_path):
    jobs = write_jobs(tmp_path / "jobs.jsonl", 2)
    res = cli("batch", str(jobs))
    assert res.exit_code == 0 and res.stderr == ""
