"""Aggregation graphs of the DLA family, drawn with Graphviz ``dot``.

Three figures, all built from :mod:`dla_docs.measure.structure` and nothing else:

- :func:`hda_graph`: one variant's stages as clusters, every residual block, aggregation
  node (root), max-pool and projection, with an edge for every tensor a root concatenates,
  shaded by each node's share of the variant's MACs;
- :func:`ida_graph`: the chain of levels (iterative deep aggregation), small enough to sit
  inline on a model page;
- :func:`family_graph`: the 12 variants side by side, stage by stage.

SVG output is byte-for-byte deterministic: the DOT source is written in the structure's
order, fonts are fixed, and every SVG element that carries an id gets one derived from the
variant, the figure kind and the module path (``dla34-hda-level3-tree1-root``), so several
figures inlined on one page never share an id and pages can link to a node.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable, Sequence

import graphviz

from dla_docs.errors import ToolMissingError
from dla_docs.measure.structure import Edge, Level, ModelStructure, Node, Stage

FONT = "DejaVu Sans"  # in Debian's fonts-dejavu-core, which graphviz depends on
FORMATS = ("svg", "dot", "png")
DOT_MISSING = "Graphviz 'dot' was not found on PATH; install the Debian package: apt-get install graphviz"

# Share of the variant's MACs -> fill colour (ColorBrewer Oranges); bins double in width so
# that both a 0.3% root of DLA-169 and an 8% block of DLA-34 get a readable shade.
MAC_BINS: tuple[tuple[float, str], ...] = (
    (0.005, "#feedde"), (0.01, "#fdd0a2"), (0.02, "#fdae6b"),
    (0.04, "#fd8d3c"), (0.08, "#e6550d"), (float("inf"), "#a63603"),
)
DARK_FILLS = frozenset({"#e6550d", "#a63603", "#3182bd", "#08519c"})
NO_COST_FILL = "#ffffff"

# Output channels -> fill colour of a stage in the family figure (ColorBrewer Blues).
CHANNEL_FILLS: tuple[tuple[int, str], ...] = (
    (64, "#eff3ff"), (128, "#bdd7e7"), (256, "#6baed6"), (512, "#3182bd"), (1024, "#08519c"),
)

SHAPES: dict[str, dict[str, str]] = {  # polygons are mild so that labels need little width
    "input": {"shape": "invhouse"},
    "downsample": {"shape": "polygon", "sides": "4", "distortion": "0.3"},
    "project": {"shape": "polygon", "sides": "4", "skew": "0.25"},
    "block": {"shape": "box", "style": "rounded,filled"},
    "root": {"shape": "ellipse", "penwidth": "1.6", "color": "#1b7837"},
}
SHAPE_NAMES = {
    "input": "stage input", "downsample": "max-pool", "project": "projection (1\u00d71 conv)",
    "block": "residual block", "root": "aggregation node (root)",
}
EDGE_STYLES: dict[str, dict[str, str]] = {
    "stage": {"color": "#252525", "penwidth": "2.4"},
    "chain": {"color": "#525252", "penwidth": "1.3"},
    "downsample": {"color": "#969696", "style": "dashed"},
    "projection": {"color": "#7b3294", "style": "dashed"},
    "shortcut": {"color": "#7b3294", "style": "dashed"},
    "aggregation": {"color": "#1b7837", "penwidth": "1.3"},
    "residual": {"color": "#2166ac", "style": "dotted", "penwidth": "1.6", "arrowhead": "odot"},
}
EDGE_NAMES = {
    "stage": "stage output into the next stage",
    "chain": "block input",
    "downsample": "into a max-pool",
    "projection": "into a projection",
    "shortcut": "shortcut added by a block",
    "aggregation": "concatenated by a root",
    "residual": "also added by a residual root",
}


# -- small helpers ---------------------------------------------------------------------------


def dom_id(*parts: str) -> str:
    """An SVG id from readable parts: module-path dots become dashes, parts join by ``-``."""
    return "-".join(re.sub(r"[^A-Za-z0-9_-]", "-", p) for p in parts)


def _text(value: object) -> str:
    """Text for an HTML-like label: escaped so that no name can break the DOT or the SVG."""
    return html.escape(str(value), quote=True)


def _attr(value: str) -> str:
    """A plain (escString) attribute such as a tooltip: backslashes are kept literal."""
    return graphviz.escape(value)


def _tooltip(*lines: str) -> str:
    """Lines joined by DOT's ``\\n``; ``nohtml`` so a tooltip like ``<x>`` stays text."""
    return graphviz.nohtml("\\n".join(_attr(line) for line in lines))


def _count(n: int) -> str:
    return f"{n:,}"


def _short(n: int) -> str:
    """Compact magnitude for labels: 1.2 G, 334 M, 41 k."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.3g}\u2009{unit}" if value < 100 else f"{value:.0f}\u2009{unit}"
    return str(n)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def mac_fill(share: float) -> str:
    """Fill colour for a node doing ``share`` (0..1) of its variant's MACs."""
    if share <= 0:
        return NO_COST_FILL
    return next(colour for bound, colour in MAC_BINS if share < bound)


def channel_fill(channels: int) -> str:
    return next((c for limit, c in CHANNEL_FILLS if channels <= limit), CHANNEL_FILLS[-1][1])


def _font_colour(fill: str) -> str:
    return "white" if fill in DARK_FILLS else "black"


def _shape_text(n: Node) -> str:
    return f"{n.channels} \u00d7 {n.height}\u00d7{n.width}"


def _new_digraph(name: str, graph_id: str, rankdir: str, **attrs: str) -> graphviz.Digraph:
    """A Digraph with fixed fonts and a fixed name, so that its SVG never varies."""
    graph = graphviz.Digraph(name=name)
    graph.attr(id=graph_id, rankdir=rankdir, fontname=FONT, bgcolor="white", **attrs)
    graph.attr("node", fontname=FONT, fontsize="10", margin="0.1,0.03", height="0.3")
    graph.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.6")
    return graph


# -- HDA: one variant, every node --------------------------------------------------------------


def _node_lines(n: Node) -> tuple[str, str]:
    """Title and detail line of a node: what it is, then its output (or its operation)."""
    title = {
        "input": f"{n.stage} input",
        "downsample": f"max-pool {n.operation.split()[0]}",
        "project": "projection",
        "block": f"block {n.number}",
        "root": f"root {n.number}",
    }[n.kind]
    detail = n.operation.removesuffix(" + BN") if n.kind == "project" else _shape_text(n)
    return title, detail


def _node_tooltip(n: Node, s: ModelStructure) -> str:
    where = n.module or f"{n.id} (the output of the previous level)"
    share = _share(n.macs, s.totals.macs)
    return _tooltip(
        where, n.operation, f"output: {_shape_text(n)}, stride {n.stride}",
        f"parameters: {_count(n.parameters)}",
        f"MACs: {_count(n.macs)} ({share:.2%} of {s.variant})",
    )


def _polygon_size(lines: Sequence[str]) -> dict[str, str]:
    """A fixed size for the slanted shapes, which ``dot`` would otherwise make twice as wide.

    The width is a generous estimate of DejaVu Sans at 10 pt (6.6 pt a character, bold
    included) plus room for the slanted sides.
    """
    width = max(len(line) for line in lines) * 6.6 / 72 + 0.4
    return {"fixedsize": "true", "width": f"{width:.2f}", "height": "0.42"}


def _add_node(graph: graphviz.Digraph, n: Node, s: ModelStructure, prefix: str) -> None:
    fill = mac_fill(_share(n.macs, s.totals.macs))
    title, detail = _node_lines(n)
    size = _polygon_size([title, detail]) if SHAPES[n.kind]["shape"] == "polygon" else {}
    graph.node(
        n.id, f"<<B>{_text(title)}</B><BR/>{_text(detail)}>", id=dom_id(prefix, n.id),
        **{"style": "filled", **SHAPES[n.kind], **size}, fillcolor=fill,
        fontcolor=_font_colour(fill), tooltip=_node_tooltip(n, s), **{"class": n.kind},
    )


def _edge_kind(e: Edge, stage: Stage) -> str:
    """``chain`` edges that leave a stage are drawn (and tested) as ``stage`` edges."""
    return "stage" if e.kind == "chain" and not e.source.startswith(f"{stage.name}.") else e.kind


def _edge_tooltip(e: Edge, kind: str, stage: Stage) -> str:
    text = f"{e.source} \u2192 {e.target}: {EDGE_NAMES[kind]}"
    if e.index is not None:
        text += f" (input {e.index + 1} of {len(stage.inputs_of(e.target))})"
    return _tooltip(text)


def _add_edge(graph: graphviz.Digraph, e: Edge, stage: Stage, prefix: str) -> None:
    kind = _edge_kind(e, stage)
    graph.edge(
        e.source, e.target, id=dom_id(prefix, e.source, "", kind, "", e.target),
        tooltip=_edge_tooltip(e, kind, stage), **{"class": kind}, **EDGE_STYLES[kind],
    )


def _add_stage_title(cluster: graphviz.Digraph, stage: Stage, s: ModelStructure, prefix: str) -> None:
    """The stage's title as a text node beside its input, not as the cluster label.

    ``dot`` routes edges around nodes but straight through cluster labels, and the edge
    from the previous stage enters every cluster at the top, where its label would be.
    """
    share = _share(stage.macs, s.totals.macs)
    ida = "aggregates its input (IDA)" if stage.aggregates_input else "does not aggregate its input"
    left = '<BR ALIGN="LEFT"/>'
    label = (
        f'<<FONT POINT-SIZE="11"><B>{_text(stage.name)}</B></FONT>{left}'
        f"stride {stage.stride} \u00b7 {stage.channels} \u00d7 {stage.height}\u00d7{stage.width}"
        f" \u00b7 tree depth {stage.depth}{left}{_text(ida)}{left}"
        f"{_short(stage.parameters)} params \u00b7 {_short(stage.macs)} MACs ({share:.1%}){left}>"
    )
    name = f"{stage.name}.title"
    cluster.node(name, label, id=dom_id(prefix, name), shape="plain", **{"class": "title"},
                 tooltip=_tooltip(f"{stage.name}: parameters {_count(stage.parameters)}, "
                                  f"MACs {_count(stage.macs)}"))
    with cluster.subgraph() as top:
        top.attr(rank="same")
        top.edge(name, f"{stage.name}.input", style="invis",
                 id=dom_id(prefix, name, "", "invis", "", stage.name, "input"))


def _swatch(colour: str) -> str:
    return f'<TD BGCOLOR="{colour}" WIDTH="18" BORDER="1" COLOR="#bdbdbd"> </TD>'


def _mac_legend_row() -> str:
    """One table row: a swatch and its range for every bin of :data:`MAC_BINS`."""
    cells, low = ['<TD ALIGN="LEFT"><B>share of MACs</B></TD>'], 0.0
    for bound, colour in MAC_BINS:
        text = f"\u2265 {low:.1%}" if bound == float("inf") else f"{low:.1%}\u2013{bound:.1%}"
        cells.append(f'{_swatch(colour)}<TD ALIGN="LEFT">{_text(text)}</TD>')
        low = bound
    cells.append(f'{_swatch(NO_COST_FILL)}<TD ALIGN="LEFT">none</TD>')
    return "<TR>" + "".join(cells) + "</TR>"


def _edge_legend_rows(per_row: int = 4) -> str:
    glyph = {"dashed": "\u254d\u254d\u254d", "dotted": "\u2504\u2504\u2504"}
    cells = []
    for kind, style in EDGE_STYLES.items():
        line = glyph.get(style.get("style", ""), "\u2501\u2501\u2501")
        cells.append(f'<TD><FONT COLOR="{style["color"]}">{line}</FONT></TD>'
                     f'<TD ALIGN="LEFT">{_text(EDGE_NAMES[kind])}</TD><TD WIDTH="14"></TD>')
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    return "".join("<TR>" + "".join(row) + "</TR>" for row in rows)


def _add_legend(graph: graphviz.Digraph, prefix: str) -> str:
    """A legend above the stages: node shapes as real nodes in one row, then the key.

    It is kept short and wide because ``dot`` gives every rank the height of its tallest
    node: a tall legend beside the first stage would stretch that stage.
    """
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(id=dom_id(prefix, "legend"), label="", style="rounded,dashed",
                    color="#bdbdbd", margin="6")
        names = [f"legend.{kind}" for kind in SHAPES]
        with legend.subgraph() as row:
            row.attr(rank="same")
            for name, (kind, shape) in zip(names, SHAPES.items()):
                size = _polygon_size([SHAPE_NAMES[kind]]) if shape["shape"] == "polygon" else {}
                row.node(name, f"<{_text(SHAPE_NAMES[kind])}>", id=dom_id(prefix, name),
                         **{"style": "filled", **shape, **size}, fillcolor="white",
                         tooltip=_tooltip(SHAPE_NAMES[kind]), **{"class": "legend"})
            for a, b in zip(names, names[1:]):  # flat edges keep the shapes in this order
                row.edge(a, b, style="invis", id=dom_id(prefix, a, "", "invis", "", b))
        key = (
            '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            '<TR><TD><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">'
            f"{_mac_legend_row()}</TABLE></TD></TR>"
            '<TR><TD><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">'
            f"{_edge_legend_rows()}</TABLE></TD></TR></TABLE>>"
        )
        legend.node("legend.key", key, id=dom_id(prefix, "legend.key"), shape="plain",
                    tooltip=_tooltip("legend"), **{"class": "legend"})
        middle = f"legend.{list(SHAPES)[len(SHAPES) // 2]}"
        legend.edge(middle, "legend.key", style="invis",
                    id=dom_id(prefix, middle, "", "invis", "", "legend.key"))
    return "legend.key"


def hda_graph(structure: ModelStructure) -> graphviz.Digraph:
    """Hierarchical deep aggregation: every stage as a cluster of blocks and roots.

    Stages are stacked top to bottom in forward order, each a chain of blocks with the
    roots in line (a root's output feeds the next subtree) and one green edge for every
    tensor a root concatenates; long green edges are the outputs of earlier subtrees and the
    stage's own downsampled input passed down to the last root.
    """
    s = structure
    prefix = dom_id(s.variant, "hda")
    graph = _new_digraph(
        f"{s.variant}_hda", prefix, "TB", nodesep="0.25", ranksep="0.28", newrank="true",
        labelloc="t", fontsize="15",
        label=(f"<<B>{_text(s.title)}</B>\u00a0({_text(s.variant)}) \u00b7 hierarchical deep aggregation "
               f"\u00b7 {s.image_size}\u00d7{s.image_size} input \u00b7 {_short(s.totals.parameters)} "
               f"params \u00b7 {_short(s.totals.macs)} MACs>"),
    )
    above = _add_legend(graph, prefix)
    for stage in s.stages:
        with graph.subgraph(name=f"cluster_{stage.name}") as cluster:
            cluster.attr(id=dom_id(prefix, "cluster", stage.name), style="rounded,filled",
                         fillcolor="#f7f7f7", color="#969696", margin="10", label="")
            _add_stage_title(cluster, stage, s, prefix)
            for node in stage.nodes:
                _add_node(cluster, node, s, prefix)
        for edge in stage.edges:
            _add_edge(graph, edge, stage, prefix)
        if above:  # the legend sits above the first stage
            graph.edge(above, f"{stage.name}.title", style="invis",
                       id=dom_id(prefix, above, "", "invis", "", stage.name, "title"))
            above = ""
    return graph


# -- IDA: the chain of levels --------------------------------------------------------------------


IDA_COLUMNS = (62, 80, 84, 52, 36)  # points: name, operation, output, stride, root


def _ida_row(cells: Sequence[str], root: bool = False) -> str:
    """One fixed-width table row, so that the levels' columns line up down the chain."""
    tds = [f'<TD WIDTH="{w}" ALIGN="LEFT">{c}</TD>' for w, c in zip(IDA_COLUMNS, cells)]
    last = ('<TD WIDTH="{}" PORT="root" BORDER="1" SIDES="L">\u2295 root</TD>' if root
            else '<TD WIDTH="{}"> </TD>').format(IDA_COLUMNS[-1])
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2"><TR>'
            + "".join(tds) + last + "</TR></TABLE>>")


def _level_label(level: Level) -> str:
    """A level as one table row; a tree level's ``root`` cell is where IDA edges arrive."""
    if level.kind == "head":
        return _ida_row(["<B>classifier</B>", _text(level.operation), f"{level.channels} classes", ""])
    shape = f"{level.channels} \u00d7 {level.height}\u00d7{level.width}"
    return _ida_row([f"<B>{_text(level.name)}</B>", _text(level.operation), _text(shape),
                     f"stride {level.stride}"], root=level.aggregates_input)


def _level_tooltip(level: Level, s: ModelStructure) -> str:
    share = _share(level.macs, s.totals.macs)
    ida = (["its last root also concatenates its max-pooled input (IDA)"]
           if level.aggregates_input else [])
    return _tooltip(level.name, f"output: {level.channels} \u00d7 {level.height}\u00d7{level.width}, "
                    f"stride {level.stride}", *ida, f"parameters: {_count(level.parameters)}",
                    f"MACs: {_count(level.macs)} ({share:.2%} of {s.variant})")


def ida_graph(structure: ModelStructure) -> graphviz.Digraph:
    """Iterative deep aggregation: the levels top to bottom, resolution falling, channels rising.

    One row per level, shaded by output channels. A dashed green edge runs from a stage's
    output to the ``root`` cell of the next stage when that stage's last root concatenates
    it again (max-pooled): the iterative aggregation that links the HDA trees.
    """
    s = structure
    prefix = dom_id(s.variant, "ida")
    graph = _new_digraph(f"{s.variant}_ida", prefix, "TB", nodesep="0.15", ranksep="0.14")
    graph.attr("node", fontsize="9", shape="box", style="rounded,filled", margin="0.02,0.01")
    image = f"{s.image_size}\u00d7{s.image_size}"
    graph.node("image", _ida_row(["<B>image</B>", "", f"3 \u00d7 {_text(image)}", ""]),
               id=dom_id(prefix, "image"), fillcolor="white", color="white",
               tooltip=_tooltip(f"input image, 3 \u00d7 {image}"), **{"class": "input"})
    previous = "image"
    for level in s.levels:
        fill = channel_fill(level.channels) if level.kind != "head" else NO_COST_FILL
        graph.node(level.name, _level_label(level), id=dom_id(prefix, level.name), fillcolor=fill,
                   fontcolor=_font_colour(fill), tooltip=_level_tooltip(level, s),
                   **{"class": level.kind})
        graph.edge(previous, level.name, id=dom_id(prefix, previous, "", "stage", "", level.name),
                   tooltip=_tooltip(f"{previous} \u2192 {level.name}"), **{"class": "stage"},
                   **EDGE_STYLES["chain"])
        if level.aggregates_input:
            graph.edge(f"{previous}:e", f"{level.name}:root:e",
                       id=dom_id(prefix, previous, "", "ida", "", level.name),
                       tooltip=_tooltip(f"{level.name}: its last root also concatenates the "
                                        f"max-pooled output of {previous} (IDA)"),
                       style="dashed", color="#1b7837", **{"class": "aggregation"})
        previous = level.name
    return graph


# -- the family: 12 variants, stage by stage ---------------------------------------------------


def _variant_label(s: ModelStructure) -> str:
    block = {"basic": "BasicBlock", "bottleneck": "Bottleneck", "res2net": "Res2Net"}.get(s.block, s.block)
    return (f"<<B>{_text(s.title)}</B><BR/><FONT POINT-SIZE=\"8\">{_text(s.variant)} \u00b7 "
            f"{_text(block)} \u00b7 {_short(s.totals.parameters)} params \u00b7 "
            f"{_short(s.totals.macs)} MACs</FONT>>")


def _family_cell(graph: graphviz.Digraph, s: ModelStructure, stage: Stage) -> str:
    name = f"{s.variant}.{stage.name}"
    fill = channel_fill(stage.channels)
    blocks, roots = len(stage.of_kind("block")), len(stage.of_kind("root"))
    graph.node(
        name, f"<<B>depth {stage.depth}</B><BR/>{stage.channels} ch \u00b7 {blocks} blocks>",
        id=dom_id("family", name), shape="box", style="rounded,filled", fillcolor=fill,
        fontcolor=_font_colour(fill), width=f"{0.5 + 0.4 * stage.depth:.2f}", **{"class": "stage"},
        tooltip=_tooltip(f"{s.variant} {stage.name}: tree depth {stage.depth}, {blocks} blocks, "
                         f"{roots} roots", f"{stage.channels} \u00d7 {stage.height}\u00d7{stage.width}",
                         f"MACs: {_count(stage.macs)}"),
    )
    return name


def _channel_legend() -> str:
    cells = "".join(
        f'<TD BGCOLOR="{c}" WIDTH="20" HEIGHT="11" FIXEDSIZE="TRUE"></TD><TD ALIGN="LEFT">{n}</TD>'
        for n, c in CHANNEL_FILLS
    )
    return (
        '<<FONT POINT-SIZE="9"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">'
        '<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="3" CELLPADDING="1">'
        f"<TR><TD><B>output channels</B></TD>{cells}</TR></TABLE></TD></TR>"
        '<TR><TD ALIGN="LEFT">box width grows with the tree depth: one more level of depth '
        "doubles the residual blocks and the aggregation nodes of a stage</TD></TR>"
        "</TABLE></FONT>>"
    )


def family_graph(structures: Sequence[ModelStructure]) -> graphviz.Digraph:
    """The family at a glance: one row per variant, one box per HDA stage (depth, width)."""
    graph = _new_digraph("dla_family", "family", "LR", nodesep="0.08", ranksep="0.25",
                         labelloc="b", label=_channel_legend())
    stages = [st.name for st in structures[0].stages] if structures else []
    header = ["family.variant", *(f"family.{name}" for name in stages)]
    titles = ["variant", *(f"{n} \u00b7 stride {structures[0].stage(n).stride}" for n in stages)]
    for name, text in zip(header, titles):
        graph.node(name, f"<<B>{_text(text)}</B>>", id=dom_id(name), shape="plain",
                   tooltip=_tooltip(text), **{"class": "header"})
    rows: list[list[str]] = [header]
    for s in structures:
        first = f"{s.variant}.label"
        graph.node(first, _variant_label(s), id=dom_id("family", s.variant), shape="plain",
                   tooltip=_tooltip(s.title, s.variant), **{"class": "variant"})
        rows.append([first, *(_family_cell(graph, s, st) for st in s.stages)])
    for row in rows:
        for a, b in zip(row, row[1:]):
            graph.edge(a, b, style="invis", id=dom_id("family", a, "", "invis", "", b))
    with graph.subgraph() as column:  # flat invisible edges fix the row order top to bottom
        column.attr(rank="same")
        for a, b in zip(rows, rows[1:]):
            column.edge(a[0], b[0], style="invis", id=dom_id("family", a[0], "", "order", "", b[0]))
    return graph


# -- rendering -------------------------------------------------------------------------------


GRAPH_KINDS: dict[str, Callable[[ModelStructure], graphviz.Digraph]] = {
    "hda": hda_graph,
    "ida": ida_graph,
}


def require_dot() -> None:
    """Raise :class:`ToolMissingError` now if ``dot`` is not on PATH (before slow work)."""
    if shutil.which("dot") is None:
        raise ToolMissingError(DOT_MISSING)


def render(graph: graphviz.Digraph, fmt: str = "svg") -> bytes:
    """Render ``graph`` with ``dot``; ``fmt="dot"`` returns the DOT source and needs no ``dot``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "dot":
        return graph.source.encode("utf-8")
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise ToolMissingError(DOT_MISSING) from None


def render_svg(graph: graphviz.Digraph) -> str:
    return render(graph, "svg").decode("utf-8")


_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)


def svg_for_inline(svg: str) -> str:
    """The SVG without XML prolog, DOCTYPE and comments, ready to paste into HTML.

    HTML5 parsers reject a second XML declaration and a DOCTYPE inside ``<body>``; the
    comments only repeat node names and would bloat every page.
    """
    text = _PROLOG.sub("", svg)
    return re.sub(r"\n{2,}", "\n", text).strip() + "\n"
