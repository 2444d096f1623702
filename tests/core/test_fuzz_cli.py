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

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from genmedia.errors import DOCUMENTED_EXIT_CODES  # noqa: E402

PROFILE = os.environ.get("GENMEDIA_FUZZ_PROFILE", "ci")
#: profile → (examples, share of examples drawn among the commands that reach the emulator)
PROFILES = {"ci": (2_000, 0.05), "long": (100_000, 0.5)}
EXAMPLES, NETWORK_SHARE = PROFILES.get(PROFILE, PROFILES["ci"])
EXAMPLES = int(os.environ.get("GENMEDIA_FUZZ_EXAMPLES") or EXAMPLES)
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

#: commands that never reach the emulator (cheap: most CI examples use them).
OFFLINE = {("plugins",), ("history", "list"), ("history", "show"), ("history", "path"), ("setup",)}
#: never fuzzed: `sandbox serve` serves until interrupted; `plugins install|uninstall` run pip
#: on the interpreter running the tests (random names would reach PyPI or remove packages).
#: `webhook listen` and `gallery serve` are servers too.
EXCLUDED = {
    ("sandbox", "serve"),
    ("webhook", "listen"),
    ("gallery", "serve"),
    ("plugins", "install"),
    ("plugins", "uninstall"),
}


# --------------------------------------------------------------------------- the tree


def command_tree() -> list[tuple[tuple[str, ...], click.Command]]:
    """Every leaf command with the options plugins add, as ``genmedia --help`` sees it."""
    from genmedia.cli import LazyCommand, make_cli

    root = make_cli()
    leaves: list[tuple[tuple[str, ...], click.Command]] = []
    ctx = click.Context(root, info_name="genmedia")

    def walk(cmd: click.Command, path: tuple[str, ...], ctx: click.Context) -> None:
        if isinstance(cmd, LazyCommand):
            cmd = cmd.load()
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    with click.Context(sub, parent=ctx, info_name=name) as sub_ctx:
                        walk(sub, (*path, name), sub_ctx)
        elif path not in EXCLUDED:
            leaves.append((path, cmd))

    with ctx:
        walk(root, (), ctx)
    return leaves


def model_catalog() -> dict[str, dict[str, Any]]:
    """endpoint id → its resolved input properties, from the emulator's bundled schemas."""
    from genmedia_sandbox.catalog import Catalog

    out = {}
    for endpoint_id, model in Catalog().models.items():
        schema = model.input_schema or {}
        props = {}
        for name, node in (schema.get("properties") or {}).items():
            props[name] = model.resolve(node) if isinstance(node, dict) else {}
        out[endpoint_id] = props
    return out


TREE = command_tree()
MODELS = model_catalog()


# --------------------------------------------------------------------------- strings

SPECIAL = [
    "",
    " ",
    "-",
    "--",
    "@",
    "@@x",
    "@-",
    "\x00",
    "a\x00b",
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "[[[[",
    '{"a":',
    "1e999",
    "-1",
    "0",
    "NaN",
    "inf",
    "9" * 5000,
    "a/b",
    "./x",
    "~",
    "{{",
    "}}",
    "{name}",
    "{request_id}/{index}",
    "%s%n",
    "'; DROP TABLE jobs; --",
    "\u202egnp.exe",
    "😀",
    "猫の写真",
    "café",
    "\r\n",
    "\t",
    "--json",
    "--help",
    "-h",
    "last",
    "é" * 300,
    "x" * 70_000,
    "\udce9",
    "a\udcffb",
    "\ud83d",
    "ok\x1b[31mred",
    "data:image/png;base64,AAAA",
    "fal-ai/flux/schnell",
    "fal-ai/",
    "/",
    "//",
    "sandbox",
]


def _safe(text: str) -> str:
    """Keep every write inside the test's directory and every request on 127.0.0.1."""
    text = text.replace("://", ":/").replace("..", "._")
    while text.startswith(("/", "~")):
        text = "./" + text[1:]
    return text


@functools.cache  # one strategy object for every draw (building one costs more than drawing)
def hostile_text() -> st.SearchStrategy[str]:
    any_char = st.characters(codec=None, categories=None)
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.text(max_size=30),
        st.text(alphabet=any_char, max_size=12),  # includes surrogates and controls
        st.builds(
            lambda ch, n: ch * n,
            st.sampled_from(["a", "/", "[", "{", "@", "é", "\x00"]),
            st.integers(100, 4000),
        ),
        st.from_regex(r"[a-z0-9_\-./@{}%]{1,60}", fullmatch=True),
    ).map(_safe)


@functools.cache
def paths(tmp: Path) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            [
                str(tmp / "in" / "cat.png"),
                str(tmp / "in" / "prompt.txt"),
                str(tmp / "in" / "input.json"),
                str(tmp / "in" / "binary.bin"),
                str(tmp / "in"),
                "out/",
                "out/{index}.{ext}",
                "in/cat.png",
                str(tmp / "in" / "café 😀.png"),
                str(tmp / "no-such-file.png"),
            ]
        ),
        hostile_text(),
    )


@functools.cache
def number_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(-(10**12), 10**12).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        hostile_text(),
    )


# --------------------------------------------------------------------------- argv


@functools.cache
def option_value(param: click.Option, tmp: Path) -> st.SearchStrategy[str]:
    kind = param.type
    if isinstance(kind, click.Choice):
        return st.one_of(st.sampled_from([str(c) for c in kind.choices]), hostile_text())
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return number_text()
    if isinstance(kind, click.Path) or any(
        w in param.name or "" for w in ("path", "file", "download", "input")
    ):
        return paths(tmp)
    return hostile_text()


@functools.cache
def options_for(cmd: click.Command, tmp: Path) -> st.SearchStrategy[list[str]]:
    singles = []
    for param in cmd.params:
        if not isinstance(param, click.Option) or not param.opts:
            continue
        flag = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
        if param.is_flag or param.count:
            names = [*param.opts, *param.secondary_opts]
            singles.append(st.sampled_from(names).map(lambda n: [n]))
        else:
            singles.append(option_value(param, tmp).map(lambda v, f=flag: [f, v]))
    if not singles:
        return st.just([])
    return st.lists(st.one_of(singles), max_size=4).map(
        lambda groups: [t for g in groups for t in g]
    )


@functools.cache
def arguments_for(cmd: click.Command, path: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    parts = []
    for param in cmd.params:
        if not isinstance(param, click.Argument):
            continue
        if param.name in ("endpoint_id", "endpoint", "endpoints"):
            value = st.one_of(st.sampled_from(sorted(MODELS)), hostile_text())
        elif param.name in ("ids", "reference", "request_id"):
            value = st.one_of(st.sampled_from(["last", "1", "nosuch"]), hostile_text())
        else:
            value = hostile_text()
        count = param.nargs if param.nargs > 0 else None
        if count is not None:
            parts.append(st.lists(value, min_size=count, max_size=count))
        else:
            parts.append(st.lists(value, min_size=1 if param.required else 0, max_size=3))
    if path == ("run",):
        return st.just([])  # run's ENDPOINT and model inputs come from model_inputs()
    if not parts:
        return st.just([])
    return st.tuples(*parts).map(lambda groups: [t for g in groups for t in g])


_FIELD_VALUES: dict[tuple[int, Path], st.SearchStrategy[str]] = {}


def field_value(node: dict[str, Any], tmp: Path) -> st.SearchStrategy[str]:
    """The strategy for one model input (built once per schema node: MODELS lives for the
    whole session, so ``id(node)`` is stable)."""
    key = (id(node), tmp)
    found = _FIELD_VALUES.get(key)
    if found is None:
        found = _FIELD_VALUES[key] = _field_value(node, tmp)
    return found


def _field_value(node: dict[str, Any], tmp: Path) -> st.SearchStrategy[str]:
    kind = node.get("type")
    choices = node.get("enum")
    typed: list[st.SearchStrategy[str]] = [hostile_text()]
    if isinstance(choices, list) and choices:
        typed.append(st.sampled_from([c if isinstance(c, str) else json.dumps(c) for c in choices]))
    if kind in ("integer", "number"):
        typed.append(number_text())
    elif kind == "boolean":
        typed.append(st.sampled_from(["true", "false", "yes", "0", "maybe"]))
    elif kind in ("array", "object"):
        typed.append(
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=4), inner, max_size=3)
                ),
                max_leaves=6,
            ).map(json.dumps)
        )
    if "url" in json.dumps(node).lower() or kind == "string":
        typed.append(paths(tmp))
    return st.one_of(typed)


@functools.cache
def _endpoints() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(sorted(MODELS)), hostile_text())


@functools.cache
def _input_names(endpoint: str) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(sorted(MODELS[endpoint])), max_size=4)


@st.composite
def model_inputs(draw: Any, tmp: Path) -> list[str]:
    endpoint = draw(_endpoints())
    props = MODELS.get(endpoint, {})
    argv = [endpoint]
    names = sorted(props)
    if names:
        chosen = draw(_input_names(endpoint))
        for name in chosen:
            value = draw(field_value(props[name], tmp))
            argv += [f"--{name}", value] if draw(st.booleans()) else [f"--{name}={value}"]
    if draw(st.integers(0, 9)) == 0:
        argv += [f"--{draw(hostile_text())}", draw(hostile_text())]
    if draw(st.integers(0, 9)) == 0:
        argv += ["--", draw(hostile_text()), draw(hostile_text())]
    return argv


@functools.cache
def _commands() -> dict[str, st.SearchStrategy[tuple[tuple[str, ...], click.Command]]]:
    """The command pickers of :func:`invocations` (built once, drawn from every example)."""
    offline = [(p, c) for p, c in TREE if p in OFFLINE]
    online = [(p, c) for p, c in TREE if p not in OFFLINE]
    # half of the online ones run a model: the path with the most input handling
    run = [(p, c) for p, c in online if p == ("run",)]
    return {
        "online": st.one_of(st.sampled_from(online), st.sampled_from(run)),
        "any": st.sampled_from(TREE),
        "offline": st.sampled_from(offline),
    }


@st.composite
def invocations(draw: Any, tmp: Path) -> list[str]:
    pick = _commands()
    if draw(st.floats(0, 1)) < NETWORK_SHARE:
        path, cmd = draw(pick["online"])
    elif draw(st.integers(0, 3)) == 0:
        # anything that fails before a request: bad commands, bad options, --help, a bad
        # endpoint's local checks (run without a resolvable model, ...)
        path, cmd = draw(pick["any"])
        argv = [*path, draw(hostile_text())]
        # the CI profile keeps this branch offline: an unknown option stops it in parsing
        bogus = PROFILE != "long" or draw(st.booleans())
        return _globals(draw, tmp) + argv + ["--no-such-option-for-fuzz"] * bogus
    else:
        path, cmd = draw(pick["offline"])
    argv = list(path)
    if path == ("run",):
        argv += draw(model_inputs(tmp))
    argv += draw(arguments_for(cmd, path))
    argv += draw(options_for(cmd, tmp))
    return _globals(draw, tmp) + argv


_FIELDS_ARG = st.one_of(st.sampled_from(["status", "jobs[0]", "a[-1].b"]), hostile_text())


def _globals(draw: Any, tmp: Path) -> list[str]:
    head = ["--json"] if draw(st.integers(0, 9)) else []
    if draw(st.integers(0, 9)) == 0:
        head.append("--debug")
    if draw(st.integers(0, 9)) == 0:
        head.append("--events")
    if draw(st.integers(0, 4)) == 0:
        head.append("--sandbox")
    if draw(st.integers(0, 19)) == 0:
        head += [
            "--field",
            draw(_FIELDS_ARG),
        ]
    return head


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
