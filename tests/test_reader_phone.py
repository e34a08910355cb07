"""The five reader tasks of issue 24 in Chromium, on a phone (390x844, device scale 3) within
two taps and on a laptop (1366x900) within one click, light and dark; wide tables, plots,
graphs and search as a reader meets them at both widths.

Every check measures the rendered page (boxes, font sizes, what is painted at a point), with
the site built by `dla-docs build` (fixtures of ``test_browser``).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from test_browser import (  # noqa: F401  (fixtures used by name)
    PALETTES,
    WIDTHS,
    _search,
    browser,
    shot,
    site_url,
)

from dla_docs import list_models

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module", params=[(w, p) for w in WIDTHS for p in PALETTES], ids=lambda v: "-".join(v))
def reader(request, browser, site_url):
    """One context per width and palette; the phone at device scale 3, as a phone draws."""
    width, palette = request.param
    context = browser.new_context(viewport=WIDTHS[width], color_scheme=palette,
                                  device_scale_factor=3 if width == "phone" else 1,
                                  is_mobile=width == "phone", has_touch=width == "phone")
    page = context.new_page()
    page.foreign_requests = []
    page.on("request", lambda r: urlparse(r.url).hostname not in ("127.0.0.1", None)
            and r.url.startswith("http") and page.foreign_requests.append(r.url))
    page.medium, page.width, page.palette = f"{width}-{palette}", width, palette
    page.taps = 0
    yield page
    assert page.foreign_requests == []
    context.close()


def _open(page, url: str) -> None:
    page.goto(url, wait_until="load")
    scheme = "slate" if page.palette == "dark" else "default"
    page.wait_for_function(f"document.body.getAttribute('data-md-color-scheme') === '{scheme}'")
    page.wait_for_function("document.querySelector('.dla-jump') || !document.querySelector('.md-content h2 ~ h2 ~ h2')")
    page.taps = 0


def _tap(page, locator) -> None:
    """One tap (phone) or click (laptop); scrolling on the way is free, taps are counted."""
    locator.scroll_into_view_if_needed()
    href = locator.get_attribute("href") or "#"
    act = locator.tap if page.width == "phone" else locator.click
    if href.startswith("#"):
        act()
    else:
        with page.expect_navigation(wait_until="load"):
            act()
        page.wait_for_function("document.querySelector('.dla-jump') || !document.querySelector('.md-content h2 ~ h2 ~ h2')")
    page.taps += 1


def _jump(page, heading: str) -> None:
    """To a section in one tap: the on-page contents row (phone) or the contents sidebar (laptop)."""
    if page.width == "phone":
        link = page.locator("nav.dla-jump a", has_text=heading).first
    else:
        link = page.locator(".md-sidebar--secondary .md-nav__link", has_text=heading).first
    assert link.is_visible() or page.width == "phone", heading
    _tap(page, link)
    page.wait_for_function("h => decodeURIComponent(location.hash).length > 1", arg=heading)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _on_screen(page, locator, what: str) -> None:
    """Wholly inside the window, below the sticky header, and not covered by anything."""
    box = locator.bounding_box()
    header = page.evaluate("document.querySelector('.md-header').getBoundingClientRect().bottom")
    view = WIDTHS[page.width]
    assert box, what
    assert box["y"] >= header - 1 and box["y"] + box["height"] <= view["height"] + 1, (what, box, header)
    assert box["x"] >= -1 and box["x"] + box["width"] <= view["width"] + 1, (what, box)
    hit = locator.evaluate("e => { const r = e.getBoundingClientRect();"
                           " return e.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }")
    assert hit, f"{what} is covered"


def _reach_column(page, cell) -> None:
    """Swipe a wide table sideways (not a tap) until ``cell`` is in view."""
    cell.evaluate("""c => { for (let p = c.parentElement; p; p = p.parentElement)
        if (p.scrollWidth > p.clientWidth + 1 && getComputedStyle(p).overflowX === 'auto') {
          const r = c.getBoundingClientRect(), w = p.getBoundingClientRect();
          if (r.right > w.right) p.scrollLeft += r.right - w.right + 4; break; } }""")


def _limit(page) -> int:
    return 2 if page.width == "phone" else 1


def test_task_1_most_accurate_under_4_gmacs_and_its_licence(reader, site_url):
    page = reader
    _open(page, f"{site_url}/index.html")
    _jump(page, "Which variant?")
    pick = page.locator(".md-content li", has_text=re.compile(r"Up to 5 GMACs")).first
    assert "licence" in pick.inner_text()
    _on_screen(page, pick.locator("strong").first, "the up-to-5-GMACs pick")
    assert page.taps <= _limit(page)
    shot(page, f"task1-{page.medium}")


def test_task_2_dla102x_top1_and_parameters(reader, site_url):
    page = reader
    _open(page, f"{site_url}/index.html")
    _tap(page, page.locator(".md-content p a[href$='models/dla102x.html']").first)
    assert page.url.split("#")[0].endswith("models/dla102x.html")
    summary = page.locator(".dla-summary table")
    for row in ("parameters", "ImageNet top-1"):
        _on_screen(page, summary.locator("tr", has_text=row).locator("td").last, row)
    assert page.taps <= _limit(page)
    shot(page, f"task2-{page.medium}")


def test_task_3_dla34_image_embeddings_code(reader, site_url):
    page = reader
    _open(page, f"{site_url}/index.html")
    _tap(page, page.locator(".md-content p a[href$='models/dla34.html']").first)
    if page.width == "phone":
        _jump(page, "Image embeddings")
    else:  # the card's contents sidebar is one click, but the laptop's one click is the card
        page.locator("#image-embeddings").scroll_into_view_if_needed()
    # the install line, then timm's code (the issue's point: timm first), then dla_docs'
    blocks = page.locator("#image-embeddings ~ div pre")
    assert "pip install timm" in blocks.first.inner_text()
    code = blocks.nth(1)
    text = code.inner_text()
    assert 'timm.create_model("dla34.in1k", pretrained=True, num_classes=0)' in text, text
    assert "pre_logits=True" in text and "embedding" in text.lower()
    box = code.bounding_box()
    assert box["y"] < WIDTHS[page.width]["height"] - 60, box  # the code starts on the first screen
    assert page.taps <= _limit(page)
    shot(page, f"task3-{page.medium}")


def test_task_4_training_memory_of_dla169_at_batch_32(reader, site_url):
    page = reader
    _open(page, f"{site_url}/index.html")
    _jump(page, "Receptive field, memory")
    table = page.locator("#dla-analysis-table")
    column = table.locator("thead th").all_inner_texts().index(
        next(h for h in table.locator("thead th").all_inner_texts() if h.startswith("training")))
    row = table.locator("tbody tr", has=page.locator("td.dla-variant", has_text=re.compile(r"^dla169$")))
    cell = row.locator("td").nth(column)
    _reach_column(page, cell)
    _on_screen(page, cell, "dla169's training peak")
    _on_screen(page, row.locator("td").first, "dla169's name beside it")
    assert re.fullmatch(r"[\d,.]+", cell.inner_text().strip())
    assert page.taps <= _limit(page)
    shot(page, f"task4-{page.medium}")


def test_task_5_dla60_to_dla60x_accuracy_and_cost(reader, site_url):
    page = reader
    _open(page, f"{site_url}/index.html")
    _tap(page, page.locator(".md-content a[href$='diffs/dla60-dla60x.html']").first)
    if page.width == "phone":  # the table, one more tap away
        _jump(page, "Accuracy, speed and cost")
    table = page.locator("table", has=page.locator("th", has_text="change")).first
    for row in ("top-1", "GMACs"):
        tr = table.locator("tbody tr", has_text=row).first
        cell = tr.locator("td").last
        _reach_column(page, cell)
        _on_screen(page, cell, f"{row} change")
        _on_screen(page, tr.locator("td").first, f"{row} label")
        assert re.search(r"\d", cell.inner_text()), cell.inner_text()
    assert page.taps <= _limit(page)
    shot(page, f"task5-{page.medium}")


# -- wide tables: first column pinned, every column reachable ------------------------------

TABLE_PAGES = ["index.html", "models/dla34.html", "diffs/dla60-dla60x.html", "verification.html"]

TABLES_JS = """
() => [...document.querySelectorAll('.md-content table')].filter(t => !t.closest('details:not([open])'))
  .map((t, i) => {
    let wrap = null;
    for (let p = t.parentElement; p && !wrap; p = p.parentElement)
      if (getComputedStyle(p).overflowX === 'auto') wrap = p;
    const fits = !wrap || wrap.scrollWidth <= wrap.clientWidth + 1;
    if (fits) return {i, fits};
    window.scrollTo(0, t.getBoundingClientRect().top + window.scrollY - 120);
    wrap.scrollLeft = wrap.scrollWidth;
    const w = wrap.getBoundingClientRect();
    const rows = [...t.querySelectorAll('tbody tr')].slice(0, 3);
    const first = rows.map(r => { const c = r.cells[0], b = c.getBoundingClientRect();
      const x = Math.min(b.left + 4, b.right - 1), y = b.top + b.height / 2;
      return b.left >= w.left - 1 && c.contains(document.elementFromPoint(x, y)); });
    const last = rows.map(r => { const b = r.cells[r.cells.length - 1].getBoundingClientRect();
      return b.right <= w.right + 1 && b.left >= w.left; });
    wrap.scrollLeft = 0;
    return {i, fits, first: first.every(Boolean), last: last.every(Boolean), id: t.id};
  })
"""


@pytest.mark.parametrize("path", TABLE_PAGES)
def test_wide_tables_fit_or_keep_their_first_column_and_reach_the_last(reader, site_url, path):
    page = reader
    if page.width != "phone":
        pytest.skip("the laptop's tables are tested in test_reader_browser")
    _open(page, f"{site_url}/{path}")
    tables = page.evaluate(TABLES_JS)
    assert tables
    bad = [t for t in tables if not t["fits"] and not (t["first"] and t["last"])]
    assert bad == [], bad
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow


def test_code_in_tables_is_legible_and_code_lines_never_wrap_to_column_0(reader, site_url):
    page = reader
    _open(page, f"{site_url}/models/dla34.html")
    sizes = page.locator(".md-content table code").evaluate_all(
        "cs => cs.map(c => parseFloat(getComputedStyle(c).fontSize))")
    assert sizes and min(sizes) >= 11.5, min(sizes)
    # every code line is one line on screen: a long one scrolls inside its block
    styles = page.locator(".md-content pre > code").evaluate_all(
        "cs => cs.map(c => [getComputedStyle(c).whiteSpace, getComputedStyle(c).overflowX, c.scrollWidth > c.clientWidth])")
    assert styles and {s[0] for s in styles} == {"pre"} and {s[1] for s in styles} == {"auto"}, styles
    if page.width == "phone":
        assert any(s[2] for s in styles)  # some line is longer than the phone's column: it scrolls


# -- plots -----------------------------------------------------------------------------------

PLOT_JS = """
svg => {
  const r = svg.getBoundingClientRect(), col = svg.closest('figure').getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => ({
    s: parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a, b: t.getBoundingClientRect(),
    rot: (t.getAttribute('transform') || '').includes('rotate') && !t.classList.contains('axis')}));
  const markers = [...svg.querySelectorAll('g.point > circle, g.context > path.marker')].map(m => {
    const b = m.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2, b.width / 2,
      m.parentElement.classList.contains('pareto')]; });
  const path = svg.querySelector('path.pareto'), samples = [];
  if (path) { const m = path.getScreenCTM();
    for (let l = 0; l <= path.getTotalLength(); l += 1) { const p = path.getPointAtLength(l);
      samples.push([m.a * p.x + m.e, m.d * p.y + m.f]); } }
  const frame = svg.querySelector('rect.frame').getBoundingClientRect();
  return {left: r.left, right: r.right, colLeft: col.left, colRight: col.right, frame: [frame.left, frame.right],
          min: Math.min(...texts.map(t => t.s)), rotated: texts.filter(t => t.rot).length,
          markers, samples, legend: svg.querySelector('.legend') ? svg.querySelector('.legend').textContent : ''};
}
"""


def test_plots_fit_the_column_legible_with_axes_a_legend_and_no_hidden_marker(reader, site_url):
    page = reader
    _open(page, f"{site_url}/index.html")
    shown = [svg for svg in page.locator("svg.dla-plot").all() if svg.is_visible()]
    assert len(shown) == 3
    want = "narrow" if page.width == "phone" else "wide"
    for svg in shown:
        assert want in svg.get_attribute("class")
        svg.scroll_into_view_if_needed()
        data = svg.evaluate(PLOT_JS)
        assert data["left"] >= data["colLeft"] - 1 and data["right"] <= data["colRight"] + 1, data
        assert data["frame"][0] >= 0 and data["frame"][1] <= WIDTHS[page.width]["width"]  # both axes in view
        assert data["min"] >= 11, data["min"]
        assert data["rotated"] == 0
        assert "DLA variant" in data["legend"]
        markers = data["markers"]
        assert len(markers) >= len(list_models())
        for i, a in enumerate(markers):
            for b in markers[i + 1:]:
                assert ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 >= a[2] + b[2] - 0.5, (a, b)
            if not a[3]:  # the Pareto line passes through front points only
                assert all(((x - a[0]) ** 2 + (y - a[1]) ** 2) ** 0.5 > a[2] for x, y in data["samples"]), a
        if data["samples"]:
            assert "Pareto front" in data["legend"]
    page.locator(f"#dla-plot-top1-macs{'-narrow' if page.width == 'phone' else ''}").scroll_into_view_if_needed()
    shot(page, f"plot-{page.medium}")


# -- graphs ----------------------------------------------------------------------------------

GRAPH_JS = """
() => [...document.querySelectorAll('.dla-graph svg')].filter(s => !s.closest('details:not([open])')).map(svg => {
  const sizes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
  const f = svg.closest('.dla-scroll').getBoundingClientRect();
  const changed = [...svg.querySelectorAll('g.changed')].filter(g => { const r = g.getBoundingClientRect();
    return r.left >= f.left - 1 && r.right <= f.right + 1 && r.top >= f.top - 1 && r.bottom <= f.bottom + 1; });
  return {name: svg.getAttribute('aria-label'), min: Math.min(...sizes),
          changed: svg.querySelectorAll('g.changed').length, inView: changed.length};
})
"""


@pytest.mark.parametrize("path", ["models/dla34.html", "models/dla169.html", "architecture.html",
                                  "diffs/dla60-dla60x.html", "diffs/dla34-dla60.html"])
def test_graphs_open_legible_and_diff_graphs_open_on_their_changes(reader, site_url, path):
    page = reader
    _open(page, f"{site_url}/{path}")
    graphs = page.evaluate(GRAPH_JS)
    assert graphs
    for g in graphs:
        assert g["min"] >= 11, g
        if g["changed"]:
            assert g["inView"] >= 1, g
    if path.startswith("models/"):  # the overview laid out for the column: seen whole, nothing to scroll
        fitted = page.locator(".dla-graph[data-dla-fit]")
        stacked = fitted.get_attribute("data-dla-stacked") is not None
        assert stacked == (page.width == "phone")
        sizes = fitted.evaluate("f => [f.querySelector('svg').getBoundingClientRect().width, f.querySelector('.dla-scroll').clientWidth]")
        if stacked:
            assert sizes[0] <= sizes[1] + 0.5, sizes
        fitted.scroll_into_view_if_needed()
        shot(page, f"overview-{path[7:-5]}-{page.medium}")
    if path.startswith("diffs/"):
        page.locator(".dla-graph").first.scroll_into_view_if_needed()
        shot(page, f"diff-graph-{path[6:-5]}-{page.medium}")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_node_details_close_with_esc_and_a_visible_control_and_keep_their_promise(reader, site_url):
    page = reader
    _open(page, f"{site_url}/models/dla34.html")
    detail = page.locator(".dla-graph__detail").first
    node = page.locator("g#dla34-overview g.node.unit [role=button]").nth(1)
    node.focus()
    assert detail.is_visible() and "receptive field" in detail.inner_text()  # as the Receptive field section promises
    page.keyboard.press("Escape")
    assert not detail.is_visible()
    _tap(page, node)
    close = detail.locator("button.dla-graph__close")
    assert close.is_visible() and close.get_attribute("aria-label")
    box = close.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    shot(page, f"details-{page.medium}")
    close.click()
    assert not detail.is_visible()


# -- search ----------------------------------------------------------------------------------

def _paths(page) -> list[str]:
    hrefs = page.locator(".md-search-result__item > a").evaluate_all("a => a.map(x => x.getAttribute('href'))")
    return [urlparse(h).path.lstrip("/") + ("#" + urlparse(h).fragment if urlparse(h).fragment else "") for h in hrefs]


SECTIONS = {  # query: a section it must find, where the site has one
    "memory": "#peak-memory", "embeddings": "#image-embeddings", "feature maps": "#feature-maps-at-every-level",
    "licence": "#which-variant", "license": "#which-variant",
    "export": "#deploy", "deploy": "#deploy",
}


@pytest.mark.parametrize("query", list(SECTIONS))
def test_search_finds_each_topic_section(browser, site_url, built_project, query):
    section = SECTIONS[query]
    index = (built_project / "site" / "search" / "search_index.json").read_text()
    if section.lstrip("#").split("#")[-1] not in index:
        pytest.skip(f"no {section} section on this site yet")
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    page.goto(f"{site_url}/index.html")
    _search(page, query)
    page.wait_for_function("s => [...document.querySelectorAll('.md-search-result__item a')]"
                           ".some(a => a.getAttribute('href').includes(s))", arg=section, timeout=10_000)
    context.close()


def test_search_ranks_an_exact_variant_name_first(browser, site_url):
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    page.goto(f"{site_url}/index.html")
    for name in ("dla102x", "dla102x2", "dla60x", "dla46_c"):
        _search(page, name)
        words = [w for w in re.split(r'[\s,:;!=\[\]()"/_]+|-(?!\d)|(?<=\bdla)(?=\d)', name) if w]
        page.wait_for_function("ws => { const a = document.querySelector('.md-search-result__item a');"
                               " const h = a && (new URL(a.href).searchParams.get('h') || '').split(' ');"
                               " return h && ws.every(w => h.includes(w)) && h.length === ws.length; }", arg=words)
        first = _paths(page)[0]
        assert first.split("#")[0] == f"models/{name}.html", (name, _paths(page)[:4])
    context.close()


def test_licence_and_license_find_the_same_pages(browser, site_url):
    context = browser.new_context(viewport=WIDTHS["desktop"])
    page = context.new_page()
    page.goto(f"{site_url}/index.html")
    found = {}
    for query in ("licence", "license"):
        _search(page, query)
        found[query] = page.locator(".md-search-result__meta").inner_text()
    assert found["licence"] == found["license"] and re.search(r"\d", found["license"]), found
    context.close()
