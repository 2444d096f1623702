"""Pretty (terminal) output prints text from users, models and servers as it is: rich
markup in a prompt, an input or a log line neither vanishes nor crashes the output."""

from __future__ import annotations

import re

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


# --------------------------------------------------------------------------- readable output


@pytest.mark.parametrize("columns", ["80", "120"])
def test_models_table_never_truncates_endpoint_ids(cli, pretty_env, columns):
    ids = [m["endpoint_id"] for m in cli("models", "--limit", "60", "--json").json["models"]]
    assert max(map(len, ids)) > 40  # long ids are in the listing
    result = cli("models", "--limit", "60", env={"COLUMNS": columns})
    assert result.exit_code == 0, result
    first_column = [line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()]
    assert not [cell for cell in first_column if "…" in cell]
    for endpoint_id in ids:
        assert endpoint_id in result.stdout


def test_model_help_shows_real_types_bounds_and_json_defaults(cli, pretty_env):
    result = cli("run", FLUX, "--help", env={"COLUMNS": "160"})
    assert result.exit_code == 0, result
    assert re.search(r"--num_images +integer 1–4 +1 ", result.stdout), result.stdout
    assert re.search(r"--guidance_scale +number 1–20 +3.5 ", result.stdout)
    assert re.search(r"--enable_safety_checker +boolean +true ", result.stdout)
    assert re.search(r"--acceleration +none\|regular\|high +none ", result.stdout)
    assert "(integer)" not in result.stdout
    info = cli("run", FLUX, "--help", "--json").json
    num_images = next(o for o in info["options"] if o["flag"] == "--num_images")
    assert (num_images["value_type"], num_images["bounds"]) == ("integer", "1–4")


def test_schema_shows_json_defaults_and_ranges(cli, pretty_env):
    result = cli("schema", FLUX, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result
    assert re.search(r"enable_safety_checker +boolean +true ", result.stdout), result.stdout
    assert re.search(r"num_images +integer +1–4 +1 ", result.stdout)


def test_setup_and_version_read_as_text(cli, pretty_env):
    setup = cli("setup", "--non-interactive", "--output-format", "auto")
    assert setup.exit_code == 0, setup
    assert "changed" not in setup.stdout and "True" not in setup.stdout
    assert setup.stdout.startswith("Saved: ")
    again = cli("setup", "--non-interactive", "--output-format", "auto")
    assert again.stdout.startswith("Unchanged: ")
    version = cli("version")
    assert "{" not in version.stdout and re.search(r"^sandbox +\S+", version.stdout, re.M)


def test_sandbox_banner_comes_before_the_work(cli, pretty_env):
    result = cli("--sandbox", "run", FLUX, "--prompt", "x")
    assert result.exit_code == 0, result
    assert result.stderr.startswith("SANDBOX: ")
    assert result.stderr.count("SANDBOX: ") == 1
    assert "completed" in result.stderr.split("SANDBOX: ", 1)[1]


def test_speed_of_a_transfer_too_short_to_sample_is_shown(monkeypatch):
    import io

    from genmedia.context import AppContext
    from genmedia.progress import average_speed, transfer_progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("GENMEDIA_OUTPUT", "pretty")
    err = Tty()
    app = AppContext(stderr=err)
    with transfer_progress(app, "small.png") as progress:
        assert progress is not None
        progress(0, 2048)
        progress(2048, 2048)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err.getvalue())
    final = text.rsplit("small.png", 1)[-1]  # the last redraw of the bar
    assert re.search(r"[\d.]+ [kMG]?B/s", final) and "?" not in final, repr(text)
    assert average_speed(2048, 0.5) == 4096
    assert average_speed(0, 1.0) is None and average_speed(10, 0) is None


# --------------------------------------------------------------------------- terminal: pager, colour


def _run_in_tty(args, env, rows=20, cols=100):
    """Run genmedia with stdout on a pseudo-terminal of rows×cols; returns (code, output)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    full_env = dict(os.environ, **env)
    full_env.pop("GENMEDIA_OUTPUT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "genmedia", *args],
        stdin=slave, stdout=slave, stderr=slave, env=full_env,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    code = proc.wait(timeout=60)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _pager(tmp_path):
    out = tmp_path / "paged.txt"
    pager = tmp_path / "pager.sh"
    pager.write_text(f'#!/bin/sh\ncat > "{out}"\n')
    pager.chmod(0o755)
    return str(pager), out


def test_long_output_goes_through_the_pager_on_a_terminal(fal_sandbox_env, tmp_path):
    pager, out = _pager(tmp_path)
    code, shown = _run_in_tty(["schema", FLUX], {"PAGER": pager}, rows=10)
    assert code == 0, shown
    assert out.exists(), shown
    assert "num_images" in out.read_text()
    assert "num_images" not in shown


def test_no_pager_and_short_output_print_directly(fal_sandbox_env, tmp_path):
    pager, out = _pager(tmp_path)
    code, shown = _run_in_tty(["--no-pager", "schema", FLUX], {"PAGER": pager}, rows=10)
    assert code == 0 and "num_images" in shown and not out.exists()
    code, shown = _run_in_tty(["version"], {"PAGER": pager}, rows=60)
    assert code == 0 and "genmedia" in shown and not out.exists()


def test_no_color_is_honoured(fal_sandbox_env):
    colour = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|9[0-7]|38;)")
    code, shown = _run_in_tty(["--no-pager", "run", FLUX, "--prompt", "x"], {}, rows=200)
    assert code == 0, shown
    assert colour.search(shown), "expected colours on a terminal without NO_COLOR"
    code, shown = _run_in_tty(
        ["--no-pager", "run", FLUX, "--prompt", "x"], {"NO_COLOR": "1"}, rows=200
    )
    assert code == 0, shown
    assert not colour.search(shown), repr(shown[:400])
