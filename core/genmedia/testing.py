"""Helpers for testing genmedia plugins (public API; see docs/plugins/testing.md).

``invoke`` runs the CLI in-process with click's runner and a plugin manager holding
exactly the plugins you give it (plus the core and, unless told otherwise, the
built-ins), so a test never depends on what else is installed::

    from genmedia.testing import invoke

    def test_my_sink(tmp_path):
        result = invoke(["run", "example/echo", "--prompt", "hi"], plugins=[my_plugin])
        assert result.exit_code == 0
        assert result.json["request_id"]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from genmedia.context import AppContext
from genmedia.plugins import BUILTIN_PLUGINS, PluginManager, make_plugin_manager


@attrs.frozen
class InvokeResult:
    """A finished in-process invocation; ``json`` parses stdout, ``error`` the error object."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    @property
    def json(self) -> Any:
        """stdout parsed; when it is not JSON the ``JSONDecodeError`` names the exit code,
        stdout and stderr, so a failing assertion says what the command did instead."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise json.JSONDecodeError(
                f"stdout is not one JSON document (exit code {self.exit_code};"
                f" stdout {_clip(self.stdout)}; stderr {_clip(self.stderr)}): {exc.msg}",
                exc.doc,
                exc.pos,
            ) from None

    @property
    def error(self) -> Any:
        """The error object: all of stderr, or its last line with ``--events``."""
        text = self.stderr.strip()
        try:
            return json.loads(text)
        except ValueError:
            return json.loads(text.splitlines()[-1])


def _clip(text: str, limit: int = 2000) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def plugin_manager(
    plugins: Iterable[object] = (), *, builtins: bool = True, autoload: bool = False
) -> PluginManager:
    """A fresh manager: core + built-ins + ``plugins``, entry points off. With
    ``builtins=False`` only genmedia's own commands (the ``commands`` built-in) are kept."""
    own = tuple(p for p in BUILTIN_PLUGINS if p[0] == "commands")
    pm = make_plugin_manager(builtins=BUILTIN_PLUGINS if builtins else own, autoload=autoload)
    for plugin in plugins:
        pm.register(plugin)
    return pm


def invoke(
    args: Sequence[str],
    *,
    plugins: Iterable[object] = (),
    builtins: bool = True,
    input: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    pm: PluginManager | None = None,
) -> InvokeResult:
    """Run ``genmedia ARGS`` in-process with the given plugins registered."""
    from click.testing import CliRunner

    from genmedia.cli import make_cli

    app = AppContext()
    app.use_plugin_manager(pm or plugin_manager(plugins, builtins=builtins))
    runner = CliRunner()
    result = runner.invoke(make_cli(), list(args), input=input, env=env, obj=app)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return InvokeResult(result.exit_code, result.stdout, result.stderr, exc)
