"""Shell completion, through click's own machinery in a real subprocess: the shell sets
``_GENMEDIA_COMPLETE``, ``COMP_WORDS`` and ``COMP_CWORD`` and reads ``type,value`` lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLUX = "fal-ai/flux/schnell"


def complete(words: str, *, env: dict[str, str] | None = None) -> list[str]:
    """What bash would be offered for the last word of ``words`` (a trailing space
    means an empty word)."""
    parts = words.split(" ")
    full = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1))
    full["_GENMEDIA_COMPLETE"] = "bash_complete"
    full.update(env or {})
    out = subprocess.run(
        [sys.executable, "-m", "genmedia"], capture_output=True, text=True, env=full, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return [line.split(",", 1)[1] for line in out.stdout.splitlines() if "," in line]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_for_each_shell(cli, shell):
    result = cli("completion", shell)
    assert result.exit_code == 0, result
    assert "_GENMEDIA_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout or f"{shell}_source" in result.stdout


def test_completion_rejects_an_unknown_shell(cli):
    result = cli("completion", "tcsh", "--json")
    assert result.exit_code == 2
    assert "tcsh" in result.error["error"]


def test_bash_script_really_completes_in_bash(tmp_path):
    """Source the script in bash and call its completion function like a TAB would."""
    script = subprocess.run(
        [sys.executable, "-m", "genmedia", "completion", "bash"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "genmedia").write_text(f'#!/bin/sh\nexec {sys.executable} -m genmedia "$@"\n')
    (shim / "genmedia").chmod(0o755)
    probe = (
        script
        + "\nCOMP_WORDS=(genmedia hist); COMP_CWORD=1; _genmedia_completion genmedia;"
        + ' printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = dict(os.environ, PATH=f"{shim}{os.pathsep}{os.environ['PATH']}")
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["history"], out.stderr


def test_subcommands_complete():
    assert "completion" in complete("genmedia comp")
    assert set(complete("genmedia config ")) == {"get", "list", "path", "set", "unset"}


def test_history_subcommands_complete():
    """`history` with no arguments runs `list`, but TAB must still offer subcommands."""
    offered = complete("genmedia history ")
    assert {"list", "show"} <= set(offered)


def test_endpoint_ids_complete_offline_from_the_bundled_catalogue():
    offered = complete("genmedia run fal-ai/flux/s")
    assert FLUX in offered
    assert all(o.startswith("fal-ai/flux/s") for o in offered)
    assert FLUX in complete("genmedia schema fal-ai/flux/sch")


def test_model_inputs_complete_after_the_endpoint():
    offered = complete(f"genmedia run {FLUX} --num")
    assert "--num_images" in offered and "--num_inference_steps" in offered
    # genmedia's own options are still offered
    assert "--timeout" in complete(f"genmedia run {FLUX} --tim")


def test_completion_reads_the_cache_that_models_and_schema_write(cli, fal_sandbox_env):
    """`models` remembers the endpoint ids it listed, `schema` the input names."""
    no_bundled = {"GENMEDIA_COMPLETION_NO_BUNDLED": "1"}
    assert complete("genmedia run fal-ai/flux/s", env=no_bundled) == []
    assert cli("models", "flux", "--json").exit_code == 0
    assert FLUX in complete("genmedia run fal-ai/flux/s", env=no_bundled)
    assert complete(f"genmedia run {FLUX} --see", env=no_bundled) == []
    schema = cli("schema", FLUX, "--json")
    assert schema.exit_code == 0
    assert "--seed" in complete(f"genmedia run {FLUX} --see", env=no_bundled)
    cache = Path(os.environ["GENMEDIA_HOME"], "cache", "completion.json")
    assert FLUX in json.loads(cache.read_text())["endpoints"]


def test_config_keys_complete():
    offered = complete("genmedia config set download.")
    assert offered == ["download.template", "download.concurrency"]


def test_hook_genmedia_offline_catalog():
    """A plugin's offline catalogue feeds endpoint and input completion (in-process,
    through click's ShellComplete)."""
    from click.shell_completion import ShellComplete

    from genmedia import hookimpl
    from genmedia.cli import make_cli
    from genmedia.context import AppContext
    from genmedia.testing import plugin_manager

    class Catalog:
        @hookimpl
        def genmedia_offline_catalog(self):
            return {"acme/painter": ["brush", "canvas_size"]}

    def offered(args, incomplete, plugins):
        app = AppContext()
        app.use_plugin_manager(plugin_manager(plugins))
        complete = ShellComplete(make_cli(), {"obj": app}, "genmedia", "_GENMEDIA_COMPLETE")
        return [c.value for c in complete.get_completions(args, incomplete)]

    assert offered(["run"], "acme/", [Catalog()]) == ["acme/painter"]
    assert offered(["run", "acme/painter"], "--b", [Catalog()]) == ["--brush"]
    assert offered(["run"], "acme/", []) == []
