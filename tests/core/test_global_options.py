"""Global options anywhere on the line, for every command; ``-i NAME=VALUE`` and ``--``.

The matrix test walks the whole command tree (plugin commands included) and puts each
global option, core or plugin-contributed, at every position of every command's line.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner

from genmedia import hookimpl
from genmedia.cli import make_cli
from genmedia.context import AppContext
from genmedia.testing import invoke, plugin_manager
from tests.core.sitepkgs import EXAMPLE_SRC

SCHNELL = "fal-ai/flux/schnell"


@pytest.fixture(autouse=True)
def example_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))


class ProbePlugin:
    """A third-party plugin contributing a global option."""

    @hookimpl
    def genmedia_add_options(self, command_name: str) -> list[click.Parameter] | None:
        if command_name != "genmedia":
            return None
        return [click.Option(["--probe"], metavar="V", help="A plugin's global option.")]


# (tokens, check of the AppContext after parsing)
GLOBALS: list[tuple[list[str], Any]] = [
    (["--json"], lambda app: app.json_flag),
    (["--sandbox"], lambda app: app.global_options.get("sandbox")),  # the sandbox plugin's
    (["--debug"], lambda app: app.debug),
    (["--events"], lambda app: app.events),
    (["--field", "status"], lambda app: app.field == "status"),
    (["--field=status"], lambda app: app.field == "status"),
    (["--disable-plugin", "nothing-by-this-name"], lambda app: app.disabled_plugins),
    (["--probe", "v"], lambda app: app.global_options.get("probe") == "v"),
]


def run_with(args: list[str], plugins: list[object] | None = None) -> tuple[Any, AppContext]:
    app = AppContext()
    app.use_plugin_manager(plugin_manager(plugins if plugins is not None else [ProbePlugin()]))
    result = CliRunner().invoke(make_cli(), args, obj=app, env={"GENMEDIA_OUTPUT": "pretty"})
    return result, app


def leaf_commands() -> list[tuple[list[str], bool]]:
    """Every runnable command's path and whether it takes a positional argument."""
    tree = json.loads(invoke(["--help", "--json"], plugins=[ProbePlugin()]).stdout)
    found: list[tuple[list[str], bool]] = []

    def walk(node: dict[str, Any], path: list[str]) -> None:
        subs = node.get("commands")
        if subs:
            for name, sub in sorted(subs.items()):
                walk(sub, [*path, name])
            return
        takes_arg = any(p.get("param_type_name") == "argument" for p in node.get("params", []))
        found.append((path, takes_arg))

    walk(tree, [])
    return found


LEAVES = leaf_commands()


def test_the_matrix_covers_the_whole_tree():
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"run", "status", "models", "schema", "setup", "history list"} <= names
    assert any(name.startswith("assets ") for name in names)
    assert len(names) > 20


@pytest.mark.parametrize(("path", "takes_arg"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_global_option_in_every_position(path: list[str], takes_arg: bool) -> None:
    # `run ENDPOINT --help` would fetch the model's schema: run is checked without one
    # here and with one (in the sandbox) by the tests below.
    base = [*path, "ARG"] if takes_arg and path != ["run"] else list(path)
    for tokens, check in GLOBALS:
        for pos in range(len(base) + 1):
            args = [*base[:pos], *tokens, *base[pos:], "--help"]
            result, app = run_with(args)
            where = " ".join(args)
            assert result.exit_code == 0, f"{where}: {result.stderr or result.stdout}"
            assert check(app), f"{where}: the global option did not take effect"
            if tokens == ["--json"]:
                info = json.loads(result.stdout)
                assert info["name"] == path[-1], where
            else:
                assert "Usage: genmedia" in result.stdout, where


# --------------------------------------------------------------------------- run


class RecordingServer(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.seen: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                server.seen.append(f"{self.command} {self.path}")
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def fake_fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    """Every fal host points at a local server that records whatever reaches it, and a
    real-looking key is set: a request escaping the sandbox would be seen."""
    server = RecordingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for role in ("QUEUE", "RUN", "REST", "API", "CDN", "DOCS"):
        monkeypatch.setenv(f"GENMEDIA_FAL_{role}_URL", url)
    monkeypatch.setenv("FAL_KEY", "not-a-real-key:but-looks-like-one")
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "args",
    [
        ["run", SCHNELL, "--prompt", "x", "--sandbox"],
        ["run", SCHNELL, "--sandbox", "--prompt", "x"],
        ["run", "--sandbox", SCHNELL, "--prompt", "x"],
        ["--sandbox", "run", SCHNELL, "--prompt", "x"],
    ],
    ids=["at-the-end", "after-endpoint", "before-endpoint", "before-command"],
)
def test_sandbox_anywhere_runs_in_the_sandbox_and_nothing_reaches_fal(
    cli, fake_fal: RecordingServer, args: list[str]
) -> None:
    from genmedia_sandbox.plugin import in_process_server

    result = cli(*args, "--json")
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["sandbox"] is True and doc["status"] == "completed"
    assert fake_fal.seen == []  # not one request reached a non-sandbox host
    job = in_process_server().job(doc["request_id"])
    assert job is not None and job.input == {"prompt": "x"}  # "sandbox" is no model input


def test_without_sandbox_the_run_goes_to_the_configured_host(cli, fake_fal) -> None:
    """The control: the recording server does see a run that is not in the sandbox."""
    result = cli("run", SCHNELL, "--prompt", "x", "--json")
    assert result.exit_code != 0
    assert fake_fal.seen


def test_field_after_the_endpoint_selects_output(cli, fal_sandbox_env) -> None:
    result = cli("run", SCHNELL, "--prompt", "x", "--field", "result.images[0].url")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("http://127.0.0.1") and result.stdout[-1] == "\n"


def test_field_after_models_query(cli, fal_sandbox_env) -> None:
    result = cli("models", "flux", "--field", "models[0].endpoint_id")
    assert result.exit_code == 0, result
    assert result.stdout.strip().startswith("fal-ai/flux")


def test_input_flag_passes_inputs_named_like_global_options() -> None:
    import genmedia_example.plugin as example

    result = invoke(
        ["run", "example/echo", "--prompt", "hi", "-i", "sandbox=yes", "--input", "debug=1"],
        plugins=[example],
        builtins=False,
    )
    assert result.exit_code == 0, result
    assert result.json["result"]["echo"] == {"prompt": "hi", "sandbox": "yes", "debug": "1"}
    assert "sandbox" not in result.json  # the global option itself was not set


def test_double_dash_ends_option_parsing() -> None:
    import genmedia_example.plugin as example

    result = invoke(
        ["run", "example/echo", "--prompt", "hi", "--", "--field", "x", "--json", "2"],
        plugins=[example],
        builtins=False,
    )
    assert result.exit_code == 0, result
    assert result.json["result"]["echo"] == {"prompt": "hi", "field": "x", "json": "2"}


def test_plugin_global_option_after_the_endpoint_is_not_a_model_input() -> None:
    import genmedia_example.plugin as example

    result, app = run_with(
        ["run", "example/echo", "--prompt", "hi", "--probe", "v", "--json"],
        plugins=[example, ProbePlugin()],
    )
    assert result.exit_code == 0, result.stderr
    assert app.global_options["probe"] == "v"
    assert json.loads(result.stdout)["result"]["echo"] == {"prompt": "hi"}


def test_a_value_option_at_the_very_end_without_value_is_a_usage_error(cli) -> None:
    result = cli("models", "flux", "--field")
    assert result.exit_code == 2
    assert result.error["error"] == "Option '--field' requires a value"


@pytest.mark.parametrize(
    ("argv", "is_help"),
    [
        (["run", "-h0"], True),  # run ignores unknown options: click shows its help
        (["run", "-0h"], True),
        (["run", "-ih"], False),  # -i takes a value: "h" is that value
        (["models", "-h0"], False),  # click stops at -0: a usage error
    ],
)
def test_a_short_option_cluster_asking_for_help_gets_json_help(cli, argv, is_help):
    # found by the long fuzz profile: `--json run -h0` printed click's text help
    result = cli("--json", *argv)
    doc = json.loads(result.stdout or result.stderr)
    if is_help:
        assert result.exit_code == 0 and doc["name"] == argv[0]
    else:
        assert result.exit_code == 2 and "error" in doc


class BrokenOptionsPlugin:
    """A third-party plugin whose genmedia_add_options raises, for every command."""

    @hookimpl
    def genmedia_add_options(self, command_name: str) -> list[click.Parameter] | None:
        raise RuntimeError(f"no options for {command_name} today")


def test_a_plugin_failing_to_add_options_takes_only_its_own_away(
    fake_fal: RecordingServer, tmp_path
) -> None:
    """genmedia_add_options is guarded per implementation: a third-party plugin that raises
    is a warning naming it, and every other plugin's options stay — the sandbox's global
    --sandbox, the download plugin's run option --download."""
    from genmedia_sandbox.plugin import in_process_server

    out = tmp_path / "out"
    result = invoke(
        ["--sandbox", "run", SCHNELL, "--prompt", "x", "--download", f"{out}/", "--json"],
        plugins=[BrokenOptionsPlugin()],
    )
    assert result.exit_code == 0, result
    doc = result.json
    assert doc["sandbox"] is True and doc["status"] == "completed"
    assert in_process_server().job(doc["request_id"]) is not None
    assert fake_fal.seen == []
    saved = [f["path"] for f in doc["downloaded_files"]]
    assert saved and all(p.startswith(str(out)) for p in saved)
    failed = [w for w in doc["warnings"] if "failed in genmedia_add_options" in w]
    assert any("no options for genmedia today" in w for w in failed)  # the global ones
    assert any("no options for run today" in w for w in failed)


def test_a_plugin_failing_to_add_options_leaves_status_its_options(
    fal_sandbox_env, tmp_path
) -> None:
    """The same guard for ``status``: its sink options (--download) survive."""
    submitted = invoke(["run", SCHNELL, "--prompt", "x", "--json"])
    assert submitted.exit_code == 0, submitted
    rid = submitted.json["request_id"]
    result = invoke(
        ["status", SCHNELL, rid, "--download", f"{tmp_path}/", "--json"],
        plugins=[BrokenOptionsPlugin()],
    )
    assert result.exit_code == 0, result
    assert [f["path"] for f in result.json["downloaded_files"]]
    assert any("no options for status today" in w for w in result.json["warnings"])
