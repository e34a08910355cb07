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

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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

    def parameters() -> list[float]:  # the fourth column: variant, top-1, top-5, parameters, ...
        return [float(v) for v in page.locator("#dla-family-table tbody tr td:nth-child(4)").all_inner_texts()]

    before = parameters()
    page.locator("#dla-family-table th", has_text="params").click()  # sortable
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


def test_search_finds_dla102x2(page, site_url, built_project):
    """Its card first, then only pages that name dla102x2: every word of the query must match
    (javascripts/search-worker.js), so "dla" alone does not list every card. The oracle is
    each result page's built HTML."""
    page.goto(f"{site_url}/index.html")
    result = _search(page, "dla102x2").filter(has_text="dla102x2").first
    result.wait_for(timeout=1000)
    shot(page, "search-dla102x2")
    assert "dla102x2" in result.inner_text()
    page.wait_for_function("[...document.querySelectorAll('.md-search-result__item a')]"
                           ".some(a => a.href.includes('h=dla+102x2'))", timeout=10_000)
    hrefs = page.locator(".md-search-result__item > a").evaluate_all("a => a.map(x => x.href)")
    paths = list(dict.fromkeys(urlparse(h).path.lstrip("/") for h in hrefs))
    assert paths[0] == "models/dla102x2.html", paths
    for path in paths:
        assert "dla102x2" in (built_project / "site" / path).read_text(encoding="utf-8"), path
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


# -- graphs, tables, search and contrast at a desktop and a phone, light and dark -------------

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PALETTES = ("light", "dark")
# Pages the site must have; the tests below walk every page the built site actually has.
PAGES = ["index.html", "architecture.html", "verification.html", "404.html",
         *(f"models/{name}.html" for name in list_models())]


@pytest.fixture(scope="module")
def site_pages(built_project) -> list[str]:
    """Every HTML page of the built site (family, cards, diffs, ...), read from site/ itself."""
    site = built_project / "site"
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    assert set(PAGES) <= set(pages) and any(page.startswith("diffs/") for page in pages), pages
    return pages


# Every visible text against what is painted behind it, from the computed colours. HTML text:
# its colour blended over the backgrounds of its ancestors. SVG text: over the last filled
# shape drawn before it under its centre (painter's order), else the HTML behind the SVG.
CONTRAST_JS = """
() => {
  const parse = c => { const m = /rgba?\\(([^)]+)\\)/.exec(c || ""); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const blend = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const htmlBg = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let bg = [255, 255, 255, 1]; for (let i = layers.length - 1; i >= 0; i--) bg = blend(layers[i], bg); return bg; };
  const opacities = new Map();
  const opacity = el => { if (!el || el.nodeType !== 1) return 1; if (opacities.has(el)) return opacities.get(el);
    const o = parseFloat(getComputedStyle(el).opacity) * opacity(el.parentElement); opacities.set(el, o); return o; };
  const painted = new Map();  // svg -> its filled shapes in document order, with their boxes
  const shapesOf = svg => { if (!painted.has(svg)) painted.set(svg, [...svg.querySelectorAll(shapes)]
    .map(s => ({s, f: parse(getComputedStyle(s).fill), b: s.getBoundingClientRect()})).filter(x => x.f && x.f[3] > 0));
    return painted.get(svg); };
  const visible = el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility === "visible" && opacity(el) > 0.1; };
  const shapes = "polygon, path, ellipse, rect, circle";
  const failures = [];
  let checked = 0;
  for (const el of document.querySelectorAll("body *")) {
    if (["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName)) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
    if (!own || !visible(el)) continue;
    const svgText = el instanceof SVGElement;
    if (svgText && el.tagName !== "text") continue;
    let fg, bg;
    if (svgText) {
      const svg = el.ownerSVGElement, r = el.getBoundingClientRect();
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      fg = parse(getComputedStyle(el).fill);
      let under = null;
      for (const {s, f, b} of shapesOf(svg)) {
        if (!(s.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) break;
        if (x >= b.left && x <= b.right && y >= b.top && y <= b.bottom) under = f;
      }
      bg = under ? blend(under, htmlBg(svg)) : htmlBg(svg);
    } else {
      fg = parse(getComputedStyle(el).color); bg = htmlBg(el);
    }
    if (!fg) continue;
    const value = ratio(blend(fg, bg), bg);
    checked++;
    if (value < 4.5) failures.push(`${value.toFixed(2)} ${el.tagName.toLowerCase()}.${(el.getAttribute("class") || "").split(" ")[0]} "${own.slice(0, 40)}"`);
  }
  return {checked, failures};
}
"""

# The rendered size (CSS px) of the smallest label of every graph shown at its default zoom.
LABEL_PX_JS = """
sel => [...document.querySelectorAll(sel)].filter(svg => !svg.closest("details:not([open])")).map(svg => {
  const sizes = [...svg.querySelectorAll("text")].filter(t => t.textContent.trim())
    .map(t => parseFloat(t.getAttribute("font-size")) * t.getScreenCTM().a);
  return [svg.getAttribute("aria-label"), Math.min(...sizes)];
})
"""


@pytest.fixture(scope="module", params=[(w, p) for w in WIDTHS for p in PALETTES], ids=lambda v: "-".join(v))
def medium(request, browser, site_url):
    """One browser context per width and palette, shared by the tests below."""
    width, palette = request.param
    context = browser.new_context(viewport=WIDTHS[width], color_scheme=palette)
    page = context.new_page()
    page.foreign_requests = []
    page.on("request", lambda r: urlparse(r.url).hostname not in ("127.0.0.1", None)
            and r.url.startswith("http") and page.foreign_requests.append(r.url))
    page.medium = f"{width}-{palette}"
    page.width, page.palette = width, palette
    yield page
    context.close()


def _open(page, url: str) -> None:
    page.goto(url, wait_until="load")
    scheme = "slate" if page.palette == "dark" else "default"
    if not url.endswith("404.html"):
        page.wait_for_function(f"document.body.getAttribute('data-md-color-scheme') === '{scheme}'")


def test_every_page_reads_at_4_5_to_1_and_fits_the_width(medium, site_url, site_pages):
    """Contrast from the rendered colours on every page of the site, at both widths in both
    palettes; at 390 px no page scrolls sideways (wide tables and graphs scroll inside their
    own containers)."""
    page, problems = medium, []
    for path in site_pages:
        _open(page, f"{site_url}/{path}")
        result = page.evaluate(CONTRAST_JS)
        assert result["checked"] > 3, path
        problems += [f"{path}: {f}" for f in result["failures"]]
        if page.width == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (path, overflow)
    assert problems == [], "\n".join(problems[:40])
    assert page.foreign_requests == []


@pytest.mark.parametrize("name", ["dla34", "dla169"])
def test_card_graphs_are_legible_named_and_answer_keyboard_and_touch(medium, site_url, name):
    page = medium
    _open(page, f"{site_url}/models/{name}.html")
    shown = page.evaluate(LABEL_PX_JS, ".dla-graph svg")
    assert len(shown) == 2  # the overview and the IDA chain; the full graph is folded away
    if page.width == "desktop":
        assert shown[1][1] >= 11, shown  # the IDA chain at its natural size
    # The overview opens fitted to the column (see test_reader_browser.py); at 100% it is legible.
    page.locator(".dla-graph[data-dla-fit] .dla-graph__tools button", has_text="100%").click()
    assert page.evaluate(LABEL_PX_JS, ".dla-graph[data-dla-fit] svg")[0][1] >= 11
    # The full graph: one click away, legible at its default zoom at both widths.
    page.locator("details.dla-graph-full summary").click()
    full = page.evaluate(LABEL_PX_JS, "details.dla-graph-full svg")
    assert len(full) == 1 and full[0][1] >= 11, full
    # Each graph is one group with a one-sentence name; no Graphviz ids or glyphs are read out.
    svgs = page.locator(".dla-graph svg")
    assert svgs.count() == 3
    for svg in svgs.all():
        tree = svg.aria_snapshot()
        name_ = re.match(r"""- '?group "(.*?)"'?:""", tree.splitlines()[0])
        assert name_ and 20 < len(name_.group(1)) < 200, tree.splitlines()[0]
        assert re.search(r"- '?button \"", tree)  # the nodes, each named by its details
        assert "cluster_" not in tree and not re.search("[\u2500-\u257f]", tree), tree[:300]
    # Node details by keyboard (focus) and by touch or mouse (click), not only hover.
    node = page.locator(f"g#{name}-overview g.node.unit [role=button]").first
    node.focus()
    detail = page.locator(".dla-graph__detail").first
    assert "MACs" in detail.inner_text() and "root" in detail.inner_text()
    page.locator(f"g#{name}-ida g.node.tree [role=button]").last.click()
    assert "level5" in page.locator(".dla-graph__detail").nth(2).inner_text()
    page.locator(f"g#{name}-overview").scroll_into_view_if_needed()
    page.locator("#aggregation-structure").scroll_into_view_if_needed()
    shot(page, f"{name}-card-{page.medium}")
    assert page.foreign_requests == []


def test_family_page_table_is_aligned_sorted_naturally_and_scrolls(medium, site_url):
    page = medium
    _open(page, f"{site_url}/index.html")
    table = page.locator("#dla-family-table")
    aligns = table.locator("tbody tr").first.locator("td.num").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c).textAlign)")
    assert aligns and set(aligns) == {"right"}
    table.locator("th", has_text="variant").click()
    names = table.locator("tbody td.dla-variant").all_inner_texts()
    number = [int(re.match(r"dla(\d+)", n).group(1)) for n in names]
    assert number in (sorted(number), sorted(number, reverse=True)) and names[0] in ("dla34", "dla169"), names
    for column in range(2, 8):  # one precision per column
        cells = table.locator(f"tbody tr td:nth-child({column})").all_inner_texts()
        decimals = {len(c.split(".")[1]) if "." in c else 0 for c in cells if c != "-"}
        assert len(decimals) == 1, (column, cells)
    scroller = page.evaluate("""() => { const t = document.querySelector('#dla-family-table');
        for (let e = t.parentElement; e; e = e.parentElement) if (getComputedStyle(e).overflowX === 'auto')
          return {cls: e.className, scrolls: e.scrollWidth > e.clientWidth, image: getComputedStyle(e).backgroundImage};
        return null; }""")
    assert scroller and "gradient" in scroller["image"], scroller  # the scroll cue
    if page.width == "phone":
        assert scroller["scrolls"], scroller
    table.scroll_into_view_if_needed()
    shot(page, f"family-{page.medium}")
    # identifiers and shapes on the cards never break inside a word
    _open(page, f"{site_url}/models/dla34.html")
    wrapped = page.locator("table", has=page.locator("code", has_text="global_pool")).evaluate(
        """table => [...table.querySelectorAll('td:first-child code, td:nth-child(2)')].map(c => {
             const r = document.createRange(); r.selectNodeContents(c);
             return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; })""")
    assert wrapped and max(wrapped) == 1, wrapped


def _search(page, query: str):
    """Type ``query`` into the search box; the results once the index answers it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator("input.md-search__input")
    box.click()
    items = page.locator(".md-search-result__item")
    # The worker ignores queries typed before its index is ready, without saying so.
    for _ in range(12):
        box.fill("")
        box.press_sequentially(query, delay=10)
        try:
            items.first.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_function("document.querySelector('.md-search-result__meta').textContent.match(/\\d/)")
    return items


def _table_dumps(page) -> list[str]:
    """Result previews that read as a table of variants flattened into a run of figures: ten or
    more numbers in a row (a row's cells and the next row's), or cells run together into one
    long word of digits. A short list of numbers (a variant's channels) is content, not a dump."""
    dumps = []
    for text in page.locator(".md-search-result__item").evaluate_all("li => li.map(x => x.innerText)"):
        run = longest = 0
        for token in text.split():
            run = run + 1 if re.fullmatch(r"[\d.,%()-]*\d[\d.,%()-]*", token) else 0
            longest = max(longest, run)
        if longest >= 10 or any(sum(c.isdigit() for c in token) >= 15 for token in text.split()):
            dumps.append(text[:120])
    return dumps


def _all_results(page, query: str) -> list[str]:
    """The path of every page in the search results, once the list shows as many pages as its
    count says (Material renders ten, then more as the list scrolls to its end)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # The results of the whole query, not of a prefix typed on the way: Material links each
    # matching page and section with the query words it matched (?h=...), so the results of
    # the whole query name it. A query split apart (top-1 searched as "top" or "1") never does.
    try:
        page.wait_for_function("q => [...document.querySelectorAll('.md-search-result__item a')]"
                               ".some(a => a.href.includes('h=' + q))", arg=query, timeout=10_000)
    except PlaywrightTimeout:
        hrefs = page.locator(".md-search-result__item > a").evaluate_all("a => a.map(x => x.href)")
        pytest.fail(f"no result for {query!r} matched it as one word: {hrefs[:6]}")
    meta = page.locator(".md-search-result__meta").inner_text()
    count = int(re.search(r"\d+", meta).group())
    paths = "[...new Set([...document.querySelectorAll('.md-search-result__item > a')].map(a => new URL(a.href).pathname))]"
    for _ in range(count):
        shown = len(page.evaluate(paths))
        if shown >= count:
            break
        # Material releases the next four results each time the list's end comes into view
        # anew: leave the end, then reach it again.
        wrap = page.locator(".md-search__scrollwrap")
        wrap.evaluate("e => e.scrollTo(0, 0)")
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        wrap.evaluate("e => e.scrollTo(0, e.scrollHeight)")
        page.wait_for_function(f"({paths}).length > {shown}")
    found = page.evaluate(paths)
    assert len(found) == count, (meta, found)
    page.locator(".md-search__scrollwrap").evaluate("e => e.scrollTo(0, 0)")  # the count and best results in view
    return [path.lstrip("/") for path in found]


@pytest.mark.parametrize("width", WIDTHS)
def test_search_for_top_1_finds_only_pages_that_say_top_1(browser, site_url, site_pages, built_project, width):
    """The query is split into words as the index is (javascripts/search-query.js): "top-1"
    lists the pages that say top-1, not every page holding a "1"; "res2net" still finds its
    cards and the family page. The oracle is each page's own built HTML."""
    site = built_project / "site"

    def text(path: str) -> str:
        return re.sub(r"<[^>]+>", " ", (site / path).read_text(encoding="utf-8")).lower()

    says_top_1 = {path for path in site_pages if "top-1" in text(path)}
    lone_1 = {path for path in site_pages if path not in says_top_1 and re.search(r"(?<![\w.,-])1(?![\w.,])", text(path))}
    assert lone_1, "no page without top-1 holds a lone 1: the test would prove nothing"
    context = browser.new_context(viewport=WIDTHS[width], color_scheme="light")
    page = context.new_page()
    foreign: list[str] = []
    page.on("request", lambda r: urlparse(r.url).hostname not in ("127.0.0.1", None)
            and r.url.startswith("http") and foreign.append(r.url))
    try:
        page.goto(f"{site_url}/verification.html")
        if width == "phone":  # the search box opens from the header's magnifier
            page.locator('label.md-header__button[for="__search"]').click()
        _search(page, "top-1")
        found = _all_results(page, "top-1")
        shot(page, f"search-top-1-{width}")
        assert found and set(found) <= says_top_1, sorted(set(found) - says_top_1)
        assert {f"models/{name}.html" for name in list_models()} <= set(found), found  # every card's Accuracy
        assert _table_dumps(page) == []
        _search(page, "res2net")
        found = _all_results(page, "res2net")
        shot(page, f"search-res2net-{width}")
        assert _table_dumps(page) == []
        for target in ("models/dla60_res2net.html", "models/dla60_res2next.html", "index.html"):
            assert target in found, (target, found)
        assert all("res2net" in text(path) for path in found), found
        assert foreign == []
    finally:
        context.close()


def test_search_finds_variants_by_any_part_of_their_name(page, site_url):
    page.goto(f"{site_url}/architecture.html")
    items = _search(page, "res2net")
    hrefs = " ".join(page.locator(".md-search-result__item > a").evaluate_all("a => a.map(x => x.href)"))
    for target in ("models/dla60_res2net.html", "models/dla60_res2next.html", "/index.html"):
        assert target in hrefs, (target, hrefs)
    preview = items.first.locator(".md-search-result__article p").first.inner_text()
    assert re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", preview), preview  # words, not table cells
    assert not re.search(r"\d[\d,.]* \d[\d,.]* \d", preview), preview
    shot(page, "search-res2net")
    for query, target in (("102x2", "models/dla102x2.html"), ("46_c", "models/dla46_c.html")):
        _search(page, query)
        found = [urlparse(h).path for h in page.locator(".md-search-result__item > a").evaluate_all(
            "a => a.map(x => x.href)")]
        assert any(path.endswith(target) for path in found), (query, found)
    assert page.foreign_requests == []


def test_404_page_is_styled_from_file_and_under_a_sub_path(browser, built_project):
    """Served for a missing page two folders below a sub-path, and opened from disk."""
    site = built_project / "site"

    class SubPath(_QuietHandler):
        def do_GET(self):  # the site under /docs/; any missing path gets 404.html
            path = self.path.split("?")[0]
            local = site / path.removeprefix("/docs/") if path.startswith("/docs/") else None
            if local is not None and local.is_file():
                self.path = "/" + path.removeprefix("/docs/")
                return super().do_GET()
            body = (site / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SubPath, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(viewport=WIDTHS["phone"], color_scheme="dark")
    page = context.new_page()
    failed: list[str] = []
    # A request the next navigation cancels (the favicon, say) is not a missing file.
    page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED" and failed.append(r.url))
    try:
        for url, home in ((f"http://127.0.0.1:{server.server_address[1]}/docs/models/gone/missing.html",
                           f"http://127.0.0.1:{server.server_address[1]}/docs/index.html"),
                          ((site / "404.html").as_uri(), (site / "index.html").as_uri())):
            page.goto(url)
            assert page.locator("h1").inner_text() == "Page not found"
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(30, 33, 41)"
            link = page.locator("#dla-home")
            page.wait_for_function(f"document.getElementById('dla-home').href === {home!r}")
            link.click()
            page.wait_for_selector("#dla-family-table")
        shot(page, "404-phone-dark")
        assert [url for url in failed if not url.endswith("search/search_index.json")] == []  # the probes
    finally:
        context.close()
        server.shutdown()
        server.server_close()


# -- the first screen of every card -----------------------------------------------------------

FIRST_SCREEN = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def first_screen(browser):
    context = browser.new_context(viewport=FIRST_SCREEN, color_scheme="light")
    page = context.new_page()
    yield page
    context.close()


def test_every_card_shows_its_summary_and_first_snippet_on_the_first_screen(first_screen, site_url):
    """Parameters, GMACs, top-1, licence, Hub id, the install line and the timm one-liner: all
    within 900 px."""
    page = first_screen
    for name in list_models():
        page.goto(f"{site_url}/models/{name}.html")
        summary = page.locator(".dla-summary table")
        rows = {
            "parameters": summary.locator("tr", has_text="parameters"),
            "top-1": summary.locator("tr", has_text="ImageNet top-1"),
            "weights": summary.locator("tr", has_text="weights · licence"),
        }
        for label, row in rows.items():
            assert row.count() == 1, (name, label)
            box = row.bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= FIRST_SCREEN["height"], (name, label, box)
        text = summary.inner_text()
        assert re.search(r"\d+\.\d\d M · \d+\.\d\d GMACs", text), (name, text)
        assert re.search(r"\d\d\.\d\d% · \d\d\.\d\d%", text), (name, text)
        assert f"timm/{name}.in1k" in text and ("bsd-3-clause" in text or "unknown" in text), (name, text)
        assert page.locator(".md-content pre").first.inner_text().strip() == "pip install timm"
        snippet = page.locator(".md-content pre", has_text="timm.create_model").first
        assert f'timm.create_model("{name}.in1k", pretrained=True)' in snippet.inner_text()
        box = snippet.bounding_box()
        assert box and box["y"] + box["height"] <= FIRST_SCREEN["height"], (name, box)
        if name in ("dla34", "dla60_res2next", "dla169"):
            shot(page, f"first-screen-{name}")
