"""genmedia imports httpx without httpx's command-line client (issue 14): the stand-in of
``genmedia.httpxshim``. These tests fail if an httpx upgrade changes the mechanism the
stand-in relies on, so that it cannot stop working silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

PROBE = r"""
import sys
import genmedia.http  # genmedia's HTTP layer: imports httpx
import httpx
httpx.Client().close()
heavy = sorted(m for m in ("rich", "pygments", "click.termui") if m in sys.modules and m != "click.termui")
stand_in = getattr(sys.modules.get("httpx._main"), "__genmedia_stand_in__", False)
print(" ".join(heavy) or "-", stand_in, callable(httpx.main))
"""


def run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_importing_genmedia_s_http_layer_imports_neither_rich_nor_pygments():
    heavy, stand_in, main_callable = run(PROBE).split()
    assert heavy == "-", f"import httpx loaded {heavy}: httpx's CLI module is imported again"
    assert stand_in == "True" and main_callable == "True"


def test_httpx_still_has_the_command_line_module_the_stand_in_replaces():
    package = Path(httpx.__file__).parent
    assert (package / "_main.py").is_file()
    # the line the stand-in answers
    assert "from ._main import main" in (package / "__init__.py").read_text(encoding="utf-8")


def test_httpx_main_still_runs_the_real_client():
    out = run(
        "import sys, genmedia, httpx\n"
        "try:\n    httpx.main(['--help'])\nexcept SystemExit as e:\n    print('exit', e.code)\n"
        "print('real' if not getattr(sys.modules['httpx._main'], '__genmedia_stand_in__',"
        " False) else 'stand-in')"
    )
    assert "Usage" in out and "exit 0" in out and out.strip().endswith("real")


def test_nothing_is_replaced_once_httpx_is_imported():
    from genmedia import httpxshim

    assert "httpx" in sys.modules and httpx is sys.modules["httpx"]
    before = sys.modules.get("httpx._main")
    httpxshim.install()
    assert sys.modules.get("httpx._main") is before
    assert not any(isinstance(f, httpxshim._OnHttpxImport) for f in sys.meta_path)


def test_nothing_shows_until_httpx_is_imported():
    """`genmedia --help` and other commands without HTTP see no trace of the stand-in."""
    out = run(
        "import sys, genmedia\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'httpx'))"
    )
    assert out.strip() == "[]"
