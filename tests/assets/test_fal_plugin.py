"""Assets is part of the fal plugin: it comes and goes with fal and uses fal's client."""

from __future__ import annotations

from genmedia import errors


def test_assets_comes_and_goes_with_the_fal_plugin(lib):
    assert lib.ok("assets", "tags", "list") == {"tags": []}
    before = len(lib.api_calls())

    result = lib.cli("--disable-plugin", "fal", "assets", "tags", "list")
    assert result.exit_code == errors.EXIT_USAGE
    assert result.error["error"] == "No such command 'assets'."
    assert len(lib.api_calls()) == before
    # no separate "assets" plugin to enable or disable on its own
    assert [row["name"] for row in lib.ok("plugins") if row["name"] == "assets"] == []


def test_assets_follows_the_fal_platform_host(lib, monkeypatch):
    """Assets reads fal's platform host setting (here another spelling of the emulator)."""
    api = lib.server.urls["api"]
    monkeypatch.setenv("GENMEDIA_FAL_API_URL", api.replace("127.0.0.1", "localhost", 1))
    assert lib.ok("assets", "tags", "list") == {"tags": []}
    assert [c.path for c in lib.api_calls("GET")] == ["/assets/tags"]


def test_fal_media_urls_are_recognised_by_host_not_by_text(fal_sandbox_env):
    from genmedia.context import AppContext
    from genmedia_fal.client import FalClient

    client = FalClient(AppContext())
    cdn = fal_sandbox_env.urls["cdn"]
    for url in (
        "https://v3.fal.media/files/rabbit/cat.png",
        "https://FAL.media/files/x.mp4",
        "https://v3b.fal.media/files/b/y.wav",
        cdn + "/files/a.png",  # the configured CDN (here the emulator's)
    ):
        assert client.is_fal_media(url), url
    for url in (
        "https://v3.fal.media.evil.example/files/cat.png",
        "https://evil.example/v3.fal.media/cat.png",
        "https://evil.example/?u=https://v3.fal.media/cat.png",
        cdn + "-evil/files/a.png",
        "http://localhost:1/files/a.png",
    ):
        assert not client.is_fal_media(url), url
