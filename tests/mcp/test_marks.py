"""The server says what the serving invocation's plugins say, whatever they are: its
title names the set output marks, its instructions carry their banners (a test plugin's
``--staging`` here; the sandbox's ``--sandbox`` the same way)."""

from __future__ import annotations

from typing import Any

from genmedia import hookimpl
from genmedia.testing import invoke
from tests.plugins.staging import Staging

BANNER = "STAGING: runs go to the staging hosts."


class StagingWithBanner(Staging):
    @hookimpl
    def genmedia_configure(self, config: Any) -> None:
        super().genmedia_configure(config)
        if config.options.get("staging"):
            config.banners.append(BANNER)


def test_the_server_names_the_marks_and_carries_the_banners(monkeypatch):
    import genmedia_mcp.server as server_module

    served: list[Any] = []
    monkeypatch.setattr(server_module, "serve_stdio", served.append)
    result = invoke(["--staging", "mcp"], plugins=[StagingWithBanner()])
    assert result.exit_code == 0, result
    (server,) = served
    assert server.title == "genmedia (staging)"
    assert server.instructions.endswith(BANNER + "\n")

    served.clear()
    plain = invoke(["mcp"], plugins=[StagingWithBanner()])
    assert plain.exit_code == 0, plain
    (server,) = served
    assert server.title == "genmedia" and BANNER not in server.instructions
