"""The site as a reader uses it, in Chromium at 1366x900 and 390x844, light and dark: the
family table that fits and sorts the useful way first, plots whose labels can be trusted,
search that answers topics, snippets that fit a phone, graphs seen whole.

Every check measures the rendered page (boxes, colours, scroll widths) in the browser; the
fixtures and helpers are those of ``test_browser``.
"""

from __future__ import annotations

import re

import pytest
from test_browser import (  # noqa: F401  (fixtures used by name)
    WIDTHS,
    _all_results,
    _open,
    _search,
    browser,
    medium,
    shot,
    site_url,
)

from dla_docs import list_models

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_family_table_fits_keeps_variants_in_view_and_sorts_the_useful_way_first(medium, site_url):
    page = medium
    _open(page, f"{site_url}/index.html")
    table = page.locator("#dla-family-table")
    table.scroll_into_view_if_needed()
    headers = table.locator("thead th").all_inner_texts()
    assert [h.split(" (")[0].strip() for h in headers] == [
        "variant", "top-1", "top-5", "params", "GMACs", "images/s", "memory", "licence"], headers
    wrap = "e => { for (let p = e.parentElement; p; p = p.parentElement) if (getComputedStyle(p).overflowX === 'auto') return p; }"
    sizes = table.evaluate(f"t => {{ const w = ({wrap})(t); return [w.scrollWidth, w.clientWidth]; }}")
    top1 = table.locator("th", has_text="top-1").bounding_box()
    if page.width == "desktop":
        assert sizes[0] <= sizes[1], sizes  # no sideways scroll: every column in view
        assert top1["x"] + top1["width"] <= WIDTHS["desktop"]["width"]
    else:  # scrolled to its right end, the variant names stay
        assert sizes[0] > sizes[1], sizes
        table.evaluate(f"t => ({wrap})(t).scrollLeft = 10000")
        cell = table.locator("tbody tr td.dla-variant").first
        box = cell.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= WIDTHS["phone"]["width"], box
        hit = cell.evaluate("c => { const r = c.getBoundingClientRect();"
                            " return c.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }")
        assert hit, "the variant cell is covered by the scrolled columns"
    shot(page, f"family-table-{page.medium}")

    def column(n: int) -> list[float]:
        return [float(v.replace(",", "")) for v in table.locator(f"tbody tr td:nth-child({n})").all_inner_texts()]

    for header, n, descending in (("top-1", 2, True), ("images/s", 6, True), ("GMACs", 5, False)):
        _open(page, f"{site_url}/index.html")
        table.locator("th", has_text=header).click()  # the first click
        values = column(n)
        assert values == sorted(values, reverse=descending), (header, values)


# -- plots: every label's box measured in the browser -----------------------------------------

PLOT_JS = """
svg => {
  const points = [...svg.querySelectorAll("g.point:not(.key)")].map(g => {
    const c = g.querySelector("circle").getBoundingClientRect();
    const t = g.querySelector("text");
    const b = t.getBoundingClientRect();
    return {name: t.textContent, front: g.classList.contains("pareto"), led: !!g.querySelector("line.leader"),
            cx: c.x + c.width / 2, cy: c.y + c.height / 2, r: c.width / 2,
            box: [b.left, b.top, b.right, b.bottom],
            px: parseFloat(getComputedStyle(t).fontSize) * Math.hypot(t.getScreenCTM().a, t.getScreenCTM().b),
            ux: +g.querySelector("circle").getAttribute("cx"), uy: +g.querySelector("circle").getAttribute("cy")};
  });
  const path = svg.querySelector("path.pareto");
  const samples = [];
  if (path) for (let l = 0; l <= path.getTotalLength(); l += 0.5) { const p = path.getPointAtLength(l); samples.push([p.x, p.y]); }
  const leader = svg.querySelector("line.leader");
  return {points, samples, leader: leader && getComputedStyle(leader).stroke, id: svg.id || "macs-params"};
}
"""


def _distance(px: float, py: float, box: list[float]) -> float:
    dx = max(box[0] - px, 0, px - box[2])
    dy = max(box[1] - py, 0, py - box[3])
    return (dx * dx + dy * dy) ** 0.5


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = map(channel, rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _colour(css: str, background: tuple[float, float, float]) -> tuple[float, float, float]:
    parts = [float(v) for v in re.findall(r"[\d.]+", css)]
    alpha = parts[3] if len(parts) > 3 else 1.0
    return tuple(parts[i] * alpha + background[i] * (1 - alpha) for i in range(3))


def test_plot_labels_are_clear_nearest_their_marker_and_legible(medium, site_url):
    page = medium
    _open(page, f"{site_url}/index.html")
    # each plot is drawn wide and narrow; the width shows one (the narrow one on a phone)
    plots = page.locator(f"svg.dla-plot--{'narrow' if page.width == 'phone' else 'wide'}")
    assert plots.count() == 3 and all(plot.is_visible() for plot in plots.all())
    assert not any(plot.is_visible() for plot in page.locator(
        f"svg.dla-plot--{'wide' if page.width == 'phone' else 'narrow'}").all())
    background = _colour(page.evaluate("getComputedStyle(document.body).backgroundColor"), (255, 255, 255))
    for i in range(3):
        svg = plots.nth(i)
        svg.scroll_into_view_if_needed()
        data = svg.evaluate(PLOT_JS)
        points = data["points"]
        assert sorted(p["name"] for p in points) == sorted(list_models())
        for a in points:
            assert a["px"] >= 11, (data["id"], a["name"], a["px"])  # CSS px, at both widths
            own = _distance(a["cx"], a["cy"], a["box"])
            for b in points:
                if b is a:
                    continue
                d = _distance(b["cx"], b["cy"], a["box"])
                assert d > b["r"], (data["id"], a["name"], "over the marker of", b["name"])
                # nearest its own marker, or joined to it by a leader line
                assert d > own or a["led"], (data["id"], a["name"], "is nearer the marker of", b["name"], d, own)
                x = b["box"]
                y = a["box"]
                assert not (y[0] < x[2] and x[0] < y[2] and y[1] < x[3] and x[1] < y[3]), (a["name"], b["name"])
        if data["leader"]:
            stroke = _colour(data["leader"], background)
            light, dark = sorted((_luminance(stroke), _luminance(background)), reverse=True)
            assert (light + 0.05) / (dark + 0.05) >= 3, (data["id"], data["leader"])
        for p in points:  # only the front's markers touch the front line (SVG user units)
            near = min((((x - p["ux"]) ** 2 + (y - p["uy"]) ** 2) ** 0.5 for x, y in data["samples"]), default=99)
            if p["front"]:  # on the line, or beside a gap left for a dominated neighbour's marker
                assert near < 1 or near <= 10 and any(not q["front"] and abs(q["ux"] - p["ux"]) + abs(q["uy"] - p["uy"])
                                                      < 20 for q in points), (data["id"], p["name"], near)
            else:
                assert near > 5, (data["id"], p["name"], "lies on the front line", near)
        # laid out for the column: it fits, nothing to scroll
        assert svg.evaluate("s => s.closest('.dla-scroll').scrollWidth <= s.closest('.dla-scroll').clientWidth + 1")
    plots.nth(1).scroll_into_view_if_needed()
    shot(page, f"plot-top1-{page.medium}")


# -- search --------------------------------------------------------------------------------------

TOPICS = ["top-1", "accuracy", "receptive field", "memory", "throughput", "licence", "pareto"]
FAMILY_PAGES = ("index.html", "architecture.html")


@pytest.mark.parametrize("width", WIDTHS)
def test_topic_searches_give_the_family_page_first_then_cards_in_family_order(browser, site_url, width):
    context = browser.new_context(viewport=WIDTHS[width], color_scheme="light")
    page = context.new_page()
    try:
        page.goto(f"{site_url}/verification.html")
        for query in TOPICS:
            if width == "phone":
                page.locator('label.md-header__button[for="__search"]').click()
            _search(page, query)
            # either spelling of licence is searched as "licen*" (search-worker.js)
            found = _all_results(page, "licen" if query == "licence" else query.replace(" ", "+"))
            assert found[0] in FAMILY_PAGES, (query, found)
            cards = [p.removeprefix("models/").removesuffix(".html") for p in found if p.startswith("models/")]
            assert cards == [n for n in list_models() if n in cards], (query, cards)
            if query in ("licence", "pareto"):
                assert "index.html" in found, (query, found)
            if query == "top-1":
                shot(page, f"search-topic-top-1-{width}")
            page.keyboard.press("Escape")
        if width == "phone":
            page.locator('label.md-header__button[for="__search"]').click()
        _search(page, "46_c")
        found = _all_results(page, "46+c")
        assert found[0] == "models/dla46_c.html", found
    finally:
        context.close()


# -- snippets and graphs on a phone and a desktop ---------------------------------------------

@pytest.mark.parametrize("name", ["dla34", "dla60_res2next"])
def test_no_snippet_line_is_cut_off(medium, site_url, name):
    page = medium
    _open(page, f"{site_url}/models/{name}.html")
    # a line longer than the column scrolls inside its block; none wraps (to column 0)
    cut = page.locator(".md-content pre > code").evaluate_all(
        """codes => codes.filter(c => c.scrollWidth > c.clientWidth + 1 && getComputedStyle(c).overflowX !== 'auto'
                                || getComputedStyle(c).whiteSpace !== 'pre').map(c => c.textContent.slice(0, 60))""")
    assert cut == [], cut
    one_liner = page.locator(".md-content pre", has_text="timm.create_model").first
    assert f'"{name}.in1k", pretrained=True)' in one_liner.inner_text()
    box = one_liner.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTHS[page.width]["width"]
    shot(page, f"card-{name}-{page.medium}")


@pytest.mark.parametrize("name", ["dla34", "dla169"])
def test_graphs_open_fitted_and_show_details_beside_the_node(medium, site_url, name):
    page = medium
    _open(page, f"{site_url}/models/{name}.html")
    figure = page.locator(".dla-graph[data-dla-fit]")
    figure.scroll_into_view_if_needed()
    width = "f => [f.querySelector('svg').getBoundingClientRect().width, f.querySelector('.dla-scroll').clientWidth]"
    shown, column = figure.evaluate(width)
    smallest = "f => Math.min(...[...f.querySelectorAll('svg text')].filter(t => t.textContent.trim())" \
               ".map(t => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a))"
    # fitted: seen whole, or as near as labels of 11.5 px allow (it then scrolls in its box)
    assert shown <= column + 0.5 or 11 <= figure.evaluate(smallest) <= 11.6, (shown, column)
    natural = figure.evaluate("f => f.querySelector('svg').viewBox.baseVal.width * 4 / 3")
    figure.locator(".dla-graph__tools button", has_text="100%").click()
    assert abs(figure.evaluate(width)[0] - natural) < 1
    figure.locator(".dla-graph__tools button", has_text="Fit").click()
    assert figure.evaluate(width)[0] <= column + 0.5 or 11 <= figure.evaluate(smallest) <= 11.6
    # Nothing floats over the zoom buttons, wherever they are in the window.
    for scroll in ("start", "end"):
        figure.locator(".dla-graph__tools").evaluate(f"t => t.scrollIntoView({{block: '{scroll}'}})")
        page.mouse.wheel(0, -120)  # a reader scrolling back up (when Material shows floating controls)
        page.wait_for_timeout(300)
        covered = figure.locator(".dla-graph__tools button").evaluate_all(
            """bs => bs.filter(b => { const r = b.getBoundingClientRect();
                 if (r.bottom < 0 || r.top > innerHeight) return false;
                 return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) !== b; })
               .map(b => b.textContent)""")
        assert covered == [], covered
    # The full graph: details of a node low in its scroll box appear beside it, in the window.
    page.locator("details.dla-graph-full summary").click()
    node = page.locator(f"g#{name}-hda g.node.root [role=button]").last
    node.scroll_into_view_if_needed()
    node.click()
    detail = page.locator("details.dla-graph-full .dla-graph__detail")
    assert "MACs" in detail.inner_text()
    d, n = detail.bounding_box(), node.bounding_box()
    viewport = WIDTHS[page.width]
    assert d["x"] >= 0 and d["y"] >= 0 and d["x"] + d["width"] <= viewport["width"], d
    assert d["y"] + d["height"] <= viewport["height"], d
    gap = max(d["y"] - (n["y"] + n["height"]), n["y"] - (d["y"] + d["height"]), 0)
    assert gap <= 40, (d, n)  # next to the node, not somewhere below the scroll box
    shot(page, f"graph-detail-{name}-{page.medium}")
