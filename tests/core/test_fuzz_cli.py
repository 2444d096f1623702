"""Property-based fuzzing of the whole CLI (issue 10): no input makes genmedia fail badly.

argv is built from the real command tree (every command and option the plugins register,
walked through click), with model inputs drawn from the emulator's bundled model schemas
and hostile strings (any Unicode, lone surrogates, NUL, very long values, paths, JSON-ish
text, format strings). Every invocation runs in-process in sandbox mode against the
in-process emulator. Invariants:

- no internal error, no traceback, no exception escaping the CLI;
- the exit code is in the documented table (docs/exit-codes.md, ``genmedia.errors``);
- in JSON mode, stdout is empty or exactly one JSON document;
- in JSON mode, stderr is empty on success and exactly one JSON document on failure, the
  error object ``{"error": str, "details"?: object}`` (with ``--events``: NDJSON events,
  then the error object as the last line).

Profiles (docs/testing.md): ``ci`` (default, 2,000 examples, network-reaching commands
drawn less often so it stays around a minute) and ``long`` (100,000 examples, every
command drawn uniformly): ``GENMEDIA_FUZZ_PROFILE=long``. ``GENMEDIA_FUZZ_EXAMPLES=N``
overrides the number of examples of either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from genmedia.errors import DOCUMENTED_EXIT_CODES  # noqa: E402
from tests.core.fuzz_argv import EXAMPLES, PROFILE, PROFILES, invocations  # noqa: E402

for _name, (_count, _share) in PROFILES.items():
    settings.register_profile(
        f"genmedia-{_name}",
        max_examples=_count,
        deadline=None,
        database=None,  # nothing written into the repository
        suppress_health_check=list(HealthCheck),
        # CI replays the same examples every run, so a merge is never failed by an input
        # nobody has seen before; the long profile (random, or --hypothesis-seed) explores.
        derandomize=_name == "ci",
    )


# --------------------------------------------------------------------------- invariants


def check(
    argv: list[str], exit_code: int, stdout: str, stderr: str, exc: BaseException | None
) -> None:
    shown = repr(argv)[:600]
    assert exc is None, f"{shown}: {type(exc).__name__}: {exc}"
    assert exit_code in DOCUMENTED_EXIT_CODES, f"{shown}: exit {exit_code}\n{stderr[-2000:]}"
    assert "Internal error" not in stderr, f"{shown}:\n{stderr[-3000:]}"
    debug = "--debug" in argv
    assert debug or "Traceback (most recent call last)" not in stderr, f"{shown}:\n{stderr[-3000:]}"
    head = argv[: argv.index("--")] if "--" in argv else argv
    json_mode = "--json" in head
    if not json_mode or "--field" in head or "--version" in head:
        return
    if stdout.strip():
        try:
            doc = json.loads(stdout)
        except ValueError:
            raise AssertionError(
                f"{shown}: stdout is not one JSON document:\n{stdout[:2000]}"
            ) from None
    else:
        doc = None
    events = "--events" in head
    # an interactive prompt (setup) is a conversation with a person on stderr: exempt
    prompted = "setup" in head and "--non-interactive" not in head
    if not events and not prompted and exit_code == 0:
        assert not stderr.strip(), f"{shown}: exit 0 but stderr is not empty:\n{stderr[:2000]}"
    if exit_code == 0:
        return
    if isinstance(doc, dict) and ("download_failures" in doc or "sink_errors" in doc):
        return  # exit 9 / 1: the run's document is on stdout, its failures inside it
    text = stderr
    if prompted and "{" in text:
        text = text[text.index("{") :]
    if events:  # NDJSON events first, the error object is the last line
        lines = text.strip().splitlines()
        error = last_json_object(lines[-1] if lines else "")
    else:  # exactly one JSON document: the error object
        error = last_json_object(text)
    assert isinstance(error, dict), (
        f"{shown}: exit {exit_code} without an error object:\n{stderr[-2000:]}"
    )
    assert isinstance(error.get("error"), str) and error["error"], f"{shown}: {error}"
    assert isinstance(error.get("details", {}), dict), f"{shown}: {error}"


def last_json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------- the test


@pytest.fixture
def fuzz_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private working directory, home and emulator (queue and run time 0, Platform API
    validation off: the fuzzer sends invalid requests on purpose)."""
    import genmedia_sandbox.plugin as sandbox_plugin
    from genmedia_sandbox.server import start_sandbox

    work = tmp_path / "work"
    (work / "in").mkdir(parents=True)
    (work / "in" / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    (work / "in" / "café 😀.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (work / "in" / "prompt.txt").write_text("a cat on a mat")
    (work / "in" / "input.json").write_text('{"prompt": "a cat", "num_images": 1}')
    (work / "in" / "binary.bin").write_bytes(os.urandom(256) + b"\x00")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENMEDIA_SANDBOX", "1")
    from genmedia_sandbox.store import Store

    home = tmp_path / "sandbox-home"
    home.mkdir()
    monkeypatch.setenv("GENMEDIA_SANDBOX_HOME", str(home))
    store = Store(home)
    server = start_sandbox(queue_s=0.0, run_s=0.0, validate_platform=False, store=store)
    monkeypatch.setattr(sandbox_plugin, "_in_process", server)
    assert sandbox_plugin.in_process_server() is server  # --sandbox uses this emulator
    try:
        yield work
    finally:
        server.stop()


# a hang fails the CI profile instead of holding CI; the long profile runs for hours
@pytest.mark.timeout(900 if PROFILE == "ci" else 0)
@pytest.mark.fal_sandbox_allow_invalid
def test_no_input_makes_the_cli_fail_badly(fuzz_env: Path) -> None:
    from click.testing import CliRunner

    from genmedia.cli import make_cli

    counter = {"n": 0}
    runner = CliRunner()

    @settings(settings.get_profile(f"genmedia-{PROFILE}"), max_examples=EXAMPLES)
    @given(
        argv=invocations(fuzz_env), stdin=st.sampled_from(["", "a cat\n", "\x00\xff", "x" * 5000])
    )
    def run(argv: list[str], stdin: str) -> None:
        counter["n"] += 1
        if counter["n"] % 250 == 0:
            import genmedia_sandbox.plugin as sandbox_plugin

            sandbox_plugin._in_process.reset()
            sandbox_plugin._in_process.set_timing(None, queue_s=0.0, run_s=0.0)
        result = runner.invoke(make_cli(), argv, input=stdin)
        exc = result.exception if not isinstance(result.exception, SystemExit) else None
        check(argv, result.exit_code, result.stdout, result.stderr, exc)

    run()
