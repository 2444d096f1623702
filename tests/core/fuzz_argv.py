"""How the CLI fuzzer (tests/core/test_fuzz_cli.py) draws its argv: the real command tree,
model inputs from the emulator's bundled schemas, hostile strings, and the profiles' mix."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import click
from hypothesis import strategies as st

PROFILE = os.environ.get("GENMEDIA_FUZZ_PROFILE", "ci")
#: profile → (examples, share of examples drawn among the commands that reach the emulator)
PROFILES = {"ci": (2_000, 0.05), "long": (100_000, 0.5)}
EXAMPLES, NETWORK_SHARE = PROFILES.get(PROFILE, PROFILES["ci"])
EXAMPLES = int(os.environ.get("GENMEDIA_FUZZ_EXAMPLES") or EXAMPLES)

#: commands that never reach the emulator (cheap: most CI examples use them).
OFFLINE = {("plugins",), ("history", "list"), ("history", "show"), ("history", "path"), ("setup",)}
#: never fuzzed: `sandbox serve` serves until interrupted; `plugins install|uninstall` run pip
#: on the interpreter running the tests (random names would reach PyPI or remove packages).
#: `webhook listen` and `gallery serve` are servers too. Not the `not_an_agent_tool` mark:
#: `setup`, `completion`, `gallery open` and `mcp` are marked yet safe to fuzz (they end).
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
