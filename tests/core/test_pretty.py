"""Pretty (terminal) output prints text from users, models and servers as it is: rich
markup in a prompt, an input or a log line neither vanishes nor crashes the output."""

from __future__ import annotations

import pytest

PRETTY = {"GENMEDIA_OUTPUT": "pretty"}
FLUX = "fal-ai/flux/schnell"


@pytest.fixture
def pretty_env(fal_sandbox_env, monkeypatch):
    for key, value in PRETTY.items():
        monkeypatch.setenv(key, value)
    return fal_sandbox_env


def test_markup_in_a_prompt_is_printed_literally(cli, pretty_env):
    result = cli("run", FLUX, "--prompt", "[/x] a [bold]cat[/bold]")
    assert result.exit_code == 0, result
    assert "prompt: [/x] a [bold]cat[/bold]" in result.stdout
    assert "Traceback" not in result.stderr


def test_markup_in_an_error_is_printed_literally(cli, pretty_env):
    result = cli("run", FLUX, "--prompt", "x", "--num_images", "[/x]")
    assert result.exit_code == 5, result
    assert result.stderr.startswith("Error: ")
    assert "[/x]" in result.stderr
    assert "Traceback" not in result.stderr


def test_markup_in_model_names_survives_model_help(cli, pretty_env):
    result = cli("run", FLUX, "--help")
    assert result.exit_code == 0
    assert "FLUX.1 [schnell]" in result.stdout


def test_markup_in_history_listing(cli, pretty_env):
    assert cli("run", FLUX, "--prompt", "[/x] cat").exit_code == 0
    listing = cli("history", "list")
    assert listing.exit_code == 0, listing
    assert "[/x] cat" in listing.stdout


def test_markup_in_progress_log_lines(cli, pretty_env):
    # the emulator logs the endpoint; a log line with markup must show as is on stderr
    import io

    from genmedia.context import AppContext
    from genmedia.defaults import genmedia_job_progress
    from genmedia.types import JobHandle, JobStatus, LogEntry

    err = io.StringIO()
    app = AppContext(stderr=err)
    handle = JobHandle("fal", FLUX, "r1")
    genmedia_job_progress(handle, JobStatus("IN_PROGRESS", "r1", logs=[LogEntry("[/x] step")]), app)
    assert "[/x] step" in err.getvalue()
