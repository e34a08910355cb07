"""What every graph shares: ids, escaping, number formats, the Digraph defaults, rendering.

SVG output is byte-for-byte deterministic: the DOT source is written in the structure's
order, fonts are fixed, and every SVG element that carries an id gets one derived from the
variant, the figure kind and the module path (``dla34-hda-level3-tree1-root``), so several
figures inlined on one page never share an id and pages can link to a node.

Each graph carries its accessible name as the Digraph's ``comment``; :func:`render` writes it
into the SVG (``role="img" aria-label=...``), and :func:`svg_for_inline` prepares an SVG for
a page: Graphviz titles and label glyphs hidden from assistive technology, every drawn node
a focusable button named by its details.
"""

from __future__ import annotations

import html
import re
import shutil
from typing import TYPE_CHECKING

from dla_docs.errors import ToolMissingError
from dla_docs.render.graphs.style import CHANNEL_FILLS, FONT, INK, MAC_BINS, NO_COST_FILL

if TYPE_CHECKING:
    import graphviz  # imported where a graph is drawn: a warm run draws none

FORMATS = ("svg", "dot", "png")
DOT_MISSING = "Graphviz 'dot' was not found on PATH; install the Debian package: apt-get install graphviz"
MAX_NAME = 199  # accessible names stay one sentence


def dom_id(*parts: str) -> str:
    """An SVG id from readable parts: module-path dots become dashes, parts join by ``-``."""
    return "-".join(re.sub(r"[^A-Za-z0-9_-]", "-", p) for p in parts)


def text(value: object) -> str:
    """Text for an HTML-like label: escaped so that no name can break the DOT or the SVG."""
    return html.escape(str(value), quote=True)


def tooltip(*lines: str) -> str:
    """Lines joined by DOT's ``\\n``; ``nohtml`` so a tooltip like ``<x>`` stays text."""
    import graphviz

    return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in lines))


def count(n: int) -> str:
    return f"{n:,}"


def short(n: int) -> str:
    """Compact magnitude for labels: 1.2 G, 334 M, 41 k."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.3g}\u2009{unit}" if value < 100 else f"{value:.0f}\u2009{unit}"
    return str(n)


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def mac_fill(fraction: float) -> str:
    """Fill colour for a node doing ``fraction`` (0..1) of its variant's MACs."""
    if fraction <= 0:
        return NO_COST_FILL
    return next(colour for bound, colour in MAC_BINS if fraction < bound)


def channel_fill(channels: int) -> str:
    return next((c for limit, c in CHANNEL_FILLS if channels <= limit), CHANNEL_FILLS[-1][1])


def shape_text(channels: int, height: int, width: int) -> str:
    return f"{channels} \u00d7 {height}\u00d7{width}"


def new_digraph(name: str, graph_id: str, rankdir: str, accessible_name: str, **attrs: str) -> graphviz.Digraph:
    """A Digraph with fixed fonts, a fixed name and no background (the page shows through)."""
    if len(accessible_name) > MAX_NAME:
        raise ValueError(f"accessible name longer than {MAX_NAME} characters: {accessible_name!r}")
    import graphviz  # only when drawing: a warm run draws nothing

    graph = graphviz.Digraph(name=name, comment=accessible_name)
    graph.attr(id=graph_id, rankdir=rankdir, fontname=FONT, fontcolor=INK, bgcolor="transparent", **attrs)
    graph.attr("node", fontname=FONT, fontsize="10", fontcolor=INK, color=INK, margin="0.1,0.03", height="0.3")
    graph.attr("edge", fontname=FONT, fontsize="9", fontcolor=INK, arrowsize="0.6")
    return graph


# -- rendering -------------------------------------------------------------------------------


def require_dot() -> None:
    """Raise :class:`ToolMissingError` now if ``dot`` is not on PATH (before slow work)."""
    if shutil.which("dot") is None:
        raise ToolMissingError(DOT_MISSING)


def _named(svg: bytes, name: str) -> bytes:
    """The SVG root as one image named ``name`` (what it shows, in one sentence)."""
    label = html.escape(name, quote=True).encode("utf-8")
    return svg.replace(b"<svg ", b'<svg role="img" aria-label="' + label + b'" ', 1)


def render(graph: graphviz.Digraph, fmt: str = "svg") -> bytes:
    """Render ``graph`` with ``dot``; ``fmt="dot"`` returns the DOT source and needs no ``dot``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "dot":
        return graph.source.encode("utf-8")
    import graphviz

    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise ToolMissingError(DOT_MISSING) from None
    return _named(data, graph.comment or graph.name) if fmt == "svg" else data


def render_svg(graph: graphviz.Digraph) -> str:
    return render(graph, "svg").decode("utf-8")


# -- inlining into a page ----------------------------------------------------------------------

_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)
_TITLE = re.compile(r"<title>[^<]*</title>\n?")
_NODE_LINK = re.compile(r'(<g id="[^"]*" class="node ([^"]*)">\n<g id="a_[^"]*"><a )xlink:title="([^"]*)"')
_HIDDEN = re.compile(r'<g id="([^"]*)" class="(edge|cluster)')
_ANCHOR_GROUP = re.compile(r'<g id="a_[^"]*">(<a [^>]*>)')  # Graphviz's group around each link
_INHERITED = (' font-family="' + FONT + '"', ' text-anchor="start"')  # said once, on the root
_BLANK_TEXT = re.compile(r"<text [^>]*> *</text>\n?")  # Graphviz's empty table cells: draw nothing
_BETWEEN_TAGS = re.compile(r">\n+<")  # Graphviz puts each element on a line of its own
PASSIVE_NODES = frozenset({"legend", "title", "header", "variant"})  # labels, not parts of the model


def _node_button(match: re.Match[str]) -> str:
    head, kind, tip = match.groups()
    if kind in PASSIVE_NODES:
        return match.group(0).replace("<a ", '<a aria-hidden="true" ', 1)
    name = tip.replace("&#10;", "; ")
    return f'{head}tabindex="0" role="button" aria-label="{name}" xlink:title="{tip}"'


def svg_for_inline(svg: str) -> str:
    """The SVG without XML prolog, DOCTYPE, comments and titles, ready to paste into HTML.

    HTML5 parsers reject a second XML declaration and a DOCTYPE inside ``<body>``; the
    comments only repeat node names. On a page the figure is a group named by its one
    sentence: Graphviz titles (``cluster_level2``), edges and label text are hidden from
    assistive technology, and each drawn node is a focusable button named by its details
    (``templates/assets/javascripts/graphs.js`` shows them on focus, click or tap).

    It is also made smaller, with the same drawing: MkDocs parses every page's HTML three
    times (Python-Markdown, its anchor check, the search index), so each element and attribute
    of an inline graph costs the site build. Graphviz's group around each link (``a_...``, no
    style, nothing refers to it) is left out, the font and the start anchor that every
    text repeats are said once on the root, where the texts inherit them, the empty labels
    of Graphviz's table cells (a space, which draws nothing) are left out, ids and labels
    spell ``-`` as itself rather than ``&#45;`` (no entity to decode), and no line break
    separates two elements (SVG draws no text between elements, and each parser then meets
    one text node less per element). Pixel-identical in Chromium, light and dark, with the
    same accessibility tree.
    """
    text_ = _PROLOG.sub("", svg)
    text_ = _TITLE.sub("", text_)
    text_ = text_.replace('<svg role="img" ', '<svg role="group" ', 1)
    text_ = _NODE_LINK.sub(_node_button, text_)
    text_ = _HIDDEN.sub(r'<g aria-hidden="true" id="\1" class="\2', text_)
    text_ = _ANCHOR_GROUP.sub(r"\1", text_).replace("</a>\n</g>", "</a>")
    text_ = _BLANK_TEXT.sub("", text_).replace("&#45;", "-").replace("<text ", '<text aria-hidden="true" ')
    for attribute in _INHERITED:
        text_ = text_.replace(attribute, "")
    text_ = re.sub(r"(<svg\b[^>]*)>", lambda m: m.group(1) + _INHERITED[0] + ">", text_, count=1)
    return _BETWEEN_TAGS.sub("><", text_).strip() + "\n"  # no whitespace between elements
