"""A run made under a plugin's output marks (a test plugin's ``--staging``, as the
sandbox's ``--sandbox``) shows each set mark as a badge, and its card's command starts
with the command words it was made under."""

from __future__ import annotations

import html
import json
import shlex

from genmedia.testing import invoke
from tests.gallery.conftest import IMAGE
from tests.plugins.staging import Staging


def staged(*args: str):
    result = invoke(list(args), plugins=[Staging()])
    assert result.exit_code == 0, result
    return result


def test_marks_are_badges_and_the_command_keeps_the_words(fal_sandbox_env, chdir_tmp, home):
    staged("--staging", "run", IMAGE, "--prompt", "a staged lighthouse", "--json")
    doc = json.loads(staged("gallery", "build", "--json").stdout)
    assert doc["runs"] == 1
    page = (home / "data" / "gallery" / "index.html").read_text()
    assert '<span class="badge mark" data-mark="staging">staging</span>' in page
    assert 'data-mark="sandbox"' not in page
    start = page.index("<code>genmedia ") + len("<code>")
    argv = shlex.split(html.unescape(page[start : page.index("</code>", start)]))
    assert argv[:4] == ["genmedia", "--staging", "run", IMAGE]
