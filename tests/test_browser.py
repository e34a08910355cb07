"""The built site in headless Chromium: served on 127.0.0.1, nothing loaded from elsewhere.

Debian's Chromium is driven by Playwright with ``executable_path``; Playwright never
downloads a browser. Screenshots are kept in ``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import PROJECT

from dla_docs import list_models
from dla_docs.zoo.blocks import AggregationNode
from dla_docs.zoo.factory import create_uninitialised

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(built_project):
    handler = functools.partial(_QuietHandler, directory=str(built_project / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site_url):
    """A fresh light-mode page that records every request leaving 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="light")
    page = context.new_page()
    page.foreign_requests = []
    page.on("request", lambda r: urlparse(r.url).hostname not in ("127.0.0.1", None)
            and r.url.startswith("http") and page.foreign_requests.append(r.url))
    yield page
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def test_family_table_lists_the_twelve_variants(page, site_url):
    page.goto(f"{site_url}/index.html")
    page.wait_for_selector("#dla-family-table")
    names = page.locator("#dla-family-table tbody td.dla-variant").all_inner_texts()
    assert names == list_models()
    page.locator("#dla-family-table").scroll_into_view_if_needed()
    shot(page, "family-table")

    def parameters() -> list[float]:
        return [float(v) for v in page.locator("#dla-family-table tbody tr td:nth-child(2)").all_inner_texts()]

    before = parameters()
    page.locator("#dla-family-table th", has_text="parameters").click()  # sortable
    after = parameters()
    assert before != sorted(before) and after in (sorted(before), sorted(before, reverse=True))
    assert page.foreign_requests == []


def test_model_card_shows_its_graphs(page, site_url):
    page.goto(f"{site_url}/models/dla169.html")
    hda = page.locator(".dla-graph svg", has=page.locator("g#dla169-hda"))
    hda.scroll_into_view_if_needed()
    box = hda.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 1000
    roots = sum(isinstance(m, AggregationNode) for m in create_uninitialised("dla169").modules())
    assert page.locator("g#dla169-hda g.node.root").count() == roots
    assert page.locator(".dla-graph svg", has=page.locator("g#dla169-ida")).is_visible()
    shot(page, "dla169-hda")
    page.goto(f"{site_url}/models/dla169.html")
    shot(page, "dla169-card-top")
    assert page.foreign_requests == []


def test_search_finds_dla102x2(page, site_url):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{site_url}/index.html")
    box = page.locator("input.md-search__input")
    box.click()
    result = page.locator(".md-search-result__item", has_text="dla102x2").first
    # The search worker builds its index in the background and ignores queries typed before
    # it is ready, without saying so: type again until it answers (at most a minute).
    for _ in range(12):
        box.fill("")
        box.press_sequentially("dla102x2", delay=20)
        try:
            result.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    result.wait_for(timeout=1000)
    shot(page, "search-dla102x2")
    assert "dla102x2" in result.inner_text()
    assert page.foreign_requests == []


def test_palette_toggle_switches_to_dark(page, site_url):
    page.goto(f"{site_url}/index.html")
    assert page.locator("body").get_attribute("data-md-color-scheme") == "default"
    page.locator('label[title="Switch to dark mode"]').click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    shot(page, "family-dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert re.match(r"rgb\((\d+), (\d+), (\d+)\)", background)
    r, g, b = map(int, re.findall(r"\d+", background)[:3])
    assert r + g + b < 200, background  # dark


# -- untrusted strings from the model-index ---------------------------------------------------

@pytest.fixture(scope="module")
def hostile_site_url(tmp_path_factory, measurements):
    """The site of a project whose model-index holds hostile strings (see untrusted_helpers)."""
    from untrusted_helpers import hostile_project

    root = hostile_project(tmp_path_factory, measurements)
    handler = functools.partial(_QuietHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hostile_metadata_reads_as_text_and_runs_nothing(browser, hostile_site_url):
    """No payload runs, nothing loads from elsewhere, every string shows as written."""
    from untrusted_helpers import HOSTILE_NAME, VARIANT, expected_strings

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="light")
    page = context.new_page()
    foreign: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: urlparse(r.url).hostname not in ("127.0.0.1", None) and foreign.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        for path, strings in ((f"models/{VARIANT}.html", expected_strings()),
                              ("verification.html", [HOSTILE_NAME])):
            page.goto(f"{hostile_site_url}/{path}", wait_until="load")
            page.wait_for_timeout(300)  # an <img onerror> would fire after its load fails
            for row in page.locator("tr", has_text="__pwned").all():
                row.hover()  # an onmouseover= that became an attribute would fire now
            assert page.evaluate("typeof window.__pwned") == "undefined", path
            text = page.inner_text("body")
            for string in strings:
                assert string in text, (path, string)
            assert page.locator("a[href^='javascript:' i], [onerror], [onmouseover]").count() == 0
        page.goto(f"{hostile_site_url}/models/{VARIANT}.html")
        page.locator("tr", has_text="Training Resources").first.scroll_into_view_if_needed()
        shot(page, "hostile-metadata")
        assert foreign == [] and dialogs == []
    finally:
        context.close()
