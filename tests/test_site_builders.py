"""The same docs/ built by both site builders (mkdocs-material and Zensical), checked alike in Chromium.

Zensical ignores the settings it does not support without a word, so a green exit status
proves little: every check here looks at the built pages in a browser (the variants listed in
the family table and in the navigation, the search finding a variant, nothing loaded from
elsewhere). Debian's Chromium is driven by Playwright with ``executable_path``.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from urllib.parse import urlparse

import pytest
from conftest import PROJECT, copy_project

from dla_docs import list_models

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT / "test-artifacts"
BUILDERS = ["mkdocs", "zensical"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def zensical_project(tmp_path_factory, measurements):
    """A copy of the project after `dla-docs build --builder zensical`."""
    from dla_docs.cli import main

    root = copy_project(tmp_path_factory.mktemp("zensical") / "project", measurements)
    assert main(["--project", str(root), "build", "--builder", "zensical"]) == 0
    return root


@pytest.fixture(scope="module", params=BUILDERS)
def site(request):
    """(builder, URL) of a built site served on 127.0.0.1."""
    root = request.getfixturevalue("built_project" if request.param == "mkdocs" else "zensical_project")
    handler = functools.partial(_QuietHandler, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield request.param, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records every request leaving 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="light")
    page = context.new_page()
    page.foreign_requests = []
    page.on("request", lambda r: urlparse(r.url).hostname not in ("127.0.0.1", None)
            and page.foreign_requests.append(r.url))
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_variants_are_listed_in_table_and_navigation(page, site):
    builder, url = site
    page.goto(f"{url}/index.html")
    page.wait_for_selector("#dla-family-table")
    assert page.locator("#dla-family-table tbody td.dla-variant").all_inner_texts() == list_models()
    hrefs = page.locator("nav a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    in_nav = list(dict.fromkeys(m.group(1) for h in hrefs if (m := re.search(r"models/(\w+)\.html$", h))))
    assert in_nav == list_models()  # the generated navigation (INHERIT: docs/.nav.yml) was honoured
    shot(page, f"{builder}-family")

    def parameters() -> list[float]:  # variant, top-1, top-5, parameters, ...
        return [float(v) for v in page.locator("#dla-family-table tbody tr td:nth-child(4)").all_inner_texts()]

    before = parameters()
    page.locator("#dla-family-table th", has_text="params").click()  # our extra_javascript loaded
    assert parameters() in (sorted(before), sorted(before, reverse=True)) and before != sorted(before)
    page.goto(f"{url}/models/dla60_res2next.html")
    assert "(dla60_res2next)" in page.locator("h1").first.inner_text()
    assert page.locator(".dla-graph svg g#dla60_res2next-hda").count() == 1
    assert page.foreign_requests == []


def _search(page, builder: str, query: str):
    """Type ``query`` into the builder's search box; the first result that links the variant's card."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if builder == "mkdocs":
        box = page.locator("input.md-search__input")
        box.click()
        result = page.locator(f".md-search-result__item:has(> a[href*='models/{query}.html'])").first
    else:  # Zensical: a search dialog (in a shadow root, which Playwright's locators pierce)
        page.locator(".md-search__button").click()
        box = page.get_by_role("combobox", name="Search")
        result = page.locator(f"a[role=option][href*='models/{query}.html']").first
    # The index is built in the background and queries typed before it is ready are ignored
    # without a word: type again until it answers (at most a minute).
    for _ in range(12):
        box.fill("")
        box.press_sequentially(query, delay=20)
        try:
            result.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    result.wait_for(timeout=1000)
    return result


def test_search_finds_a_variant(page, site):
    builder, url = site
    page.goto(f"{url}/index.html")
    result = _search(page, builder, "dla102x2")
    shot(page, f"{builder}-search-dla102x2")
    assert "dla102x2" in result.inner_text()
    result.click()
    page.wait_for_url(re.compile(r".*/models/dla102x2\.html.*"))
    assert "dla102x2" in page.locator("h1").first.inner_text()
    assert page.foreign_requests == []


def test_no_page_requests_anything_from_elsewhere(page, site):
    builder, url = site
    for path in ["index.html", "architecture.html", "verification.html", "404.html",
                 *(f"models/{name}.html" for name in list_models())]:
        response = page.goto(f"{url}/{path}", wait_until="load")
        assert response is not None and response.ok, (builder, path)
    assert page.foreign_requests == [], builder
