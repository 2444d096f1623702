"""The gallery in a real browser: headless Chromium (the system's) driven by Playwright.

Built from sandbox runs of an image, a video and an audio model (downloaded, so local
files exist) and a run whose prompt is hostile markup. Skips, saying why, when Playwright
or a Chromium executable is missing, unless ``GENMEDIA_REQUIRE_BROWSER=1`` (CI sets it:
there a missing browser is a failure). The screenshot is saved as a test artifact in
``$GENMEDIA_TEST_ARTIFACTS`` (default ``.artifacts/`` in the repository).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gallery.conftest import HOSTILE

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str | None:
    configured = os.environ.get("GENMEDIA_CHROMIUM")
    if configured:
        return configured
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def _skip(reason: str) -> None:
    if os.environ.get("GENMEDIA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GENMEDIA_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("Playwright for Python is not installed (pip install -e '.[test]')")
    executable = _chromium()
    if executable is None:
        _skip("no Chromium executable (apt-get install chromium, or set GENMEDIA_CHROMIUM)")
    with sync_playwright() as p:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
        launched = p.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


def artifact(name: str) -> Path:
    folder = Path(os.environ.get("GENMEDIA_TEST_ARTIFACTS") or ROOT / ".artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.fixture
def gallery_url(three_runs: dict[str, Any], cli: Any, home: Path) -> str:
    result = cli("gallery", "build", "--json")
    assert result.exit_code == 0, result
    return str(result.json["url"])


def visible_request_ids(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#all .card:not([hidden])", "cards => cards.map(c => c.dataset.requestId)"
    )


def test_gallery_in_chromium(browser, gallery_url, three_runs):
    assert gallery_url.startswith("file://")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(gallery_url)

    # every image decodes (local files and the remote URL of the hostile run); images
    # load lazily, so bring each into view as a reader scrolling down would
    images = page.locator("#all img")
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#all img')).every(i => i.complete)",
        timeout=15000,
    )
    widths = page.eval_on_selector_all("#all img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 3 and all(w > 0 for w in widths), widths
    # the video loads its metadata (HAVE_METADATA = 1) and knows its duration
    page.wait_for_function(
        "() => document.querySelector('#all video').readyState >= 1", timeout=15000
    )
    assert page.eval_on_selector("#all video", "v => v.duration") > 0
    assert page.eval_on_selector("#all audio", "a => a.src").startswith("file://")

    # the hostile prompt is text: no dialog, no injected element, the text shown as typed
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script").count() == 1
    hostile_id = three_runs["hostile"]["request_id"]
    card = page.locator(f"#all .card[data-request-id='{hostile_id}']")
    assert card.locator(".prompt").inner_text() == HOSTILE

    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(artifact("gallery.png")), full_page=True)

    # search hides the cards that do not match, and says how many are shown
    assert len(visible_request_ids(page)) == 5
    page.fill("#q", "lighthouse")
    shown = visible_request_ids(page)
    assert sorted(shown) == sorted(three_runs[k]["request_id"] for k in ("image", "image2"))
    assert page.inner_text("#count") == "2 of 5 runs"
    page.fill("#q", "")
    page.select_option("#kind", "audio")
    assert visible_request_ids(page) == [three_runs["audio"]["request_id"]]
    page.select_option("#kind", "")

    # side by side: the two models' runs of one prompt
    page.click("button.compare")
    assert page.is_visible("#compare") and not page.is_visible("#all")
    models = page.eval_on_selector_all(
        "#compare .group .card", "cards => cards.map(c => c.dataset.model).sort()"
    )
    assert models == ["fal-ai/flux/dev", "fal-ai/flux/schnell"]
    page.screenshot(path=str(artifact("gallery-compare.png")), full_page=True)
    page.close()


def test_served_gallery_in_chromium_seeks_video_by_range(browser, gallery_url, home):
    """``gallery serve``'s server (in a thread here): the page's relative links resolve,
    images decode and the video's metadata arrives through byte-range requests."""
    import threading

    from genmedia_gallery.serve import GalleryServer

    server = GalleryServer(home / "data" / "gallery", port=0)
    ranges: list[str] = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page = browser.new_page()
        page.on("request", lambda r: ranges.append(r.headers.get("range") or ""))
        page.goto(server.url)
        images = page.locator("#all img")
        for i in range(images.count()):
            images.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('#all img')).every(i => i.complete)"
        )
        widths = page.eval_on_selector_all("#all img", "imgs => imgs.map(i => i.naturalWidth)")
        assert all(w > 0 for w in widths), widths
        page.wait_for_function("() => document.querySelector('#all video').readyState >= 1")
        assert page.eval_on_selector("#all video", "v => v.currentSrc").startswith(
            "http://127.0.0.1"
        )
        assert any(r.startswith("bytes=") for r in ranges), ranges
        page.close()
    finally:
        server.shutdown()
        server.server_close()
