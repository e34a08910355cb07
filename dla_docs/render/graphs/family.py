"""The family at a glance: the 12 variants side by side, stage by stage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dla_docs.render.graphs.common import channel_fill, count, dom_id, new_digraph, short, text, tooltip
from dla_docs.render.graphs.style import CHANNEL_FILLS, MIN_POINTS, PANEL_LINE, font_colour
from dla_docs.measure.structure import ModelStructure, Stage

if TYPE_CHECKING:
    import graphviz


def _variant_label(s: ModelStructure) -> str:
    block = {"basic": "BasicBlock", "bottleneck": "Bottleneck", "res2net": "Res2Net"}.get(s.block, s.block)
    return (f"<<B>{text(s.title)}</B><BR/><FONT POINT-SIZE=\"{MIN_POINTS}\">{text(s.variant)} \u00b7 "
            f"{text(block)}<BR/>{short(s.totals.parameters)} params \u00b7 "
            f"{short(s.totals.macs)} MACs</FONT>>")


def _family_cell(graph: graphviz.Digraph, s: ModelStructure, stage: Stage) -> str:
    name = f"{s.variant}.{stage.name}"
    fill = channel_fill(stage.channels)
    blocks, roots = len(stage.of_kind("block")), len(stage.of_kind("root"))
    graph.node(
        name, f"<<B>depth {stage.depth}</B><BR/>{stage.channels} ch \u00b7 {blocks} blocks>",
        id=dom_id("family", name), shape="box", style="rounded,filled", fillcolor=fill,
        fontcolor=font_colour(fill), width=f"{0.5 + 0.4 * stage.depth:.2f}", **{"class": "stage"},
        tooltip=tooltip(f"{s.variant} {stage.name}: tree depth {stage.depth}, {blocks} blocks, "
                        f"{roots} roots", f"{stage.channels} \u00d7 {stage.height}\u00d7{stage.width}",
                        f"MACs: {count(stage.macs)}"),
    )
    return name


def _channel_legend() -> str:
    cells = "".join(
        f'<TD BGCOLOR="{c}" WIDTH="20" HEIGHT="11" FIXEDSIZE="TRUE" BORDER="1" COLOR="{PANEL_LINE}"></TD>'
        f'<TD ALIGN="LEFT">{n}</TD>'
        for n, c in CHANNEL_FILLS
    )
    return (
        f'<<FONT POINT-SIZE="{MIN_POINTS}"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">'
        '<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="3" CELLPADDING="1">'
        f"<TR><TD><B>output channels</B></TD>{cells}</TR></TABLE></TD></TR>"
        '<TR><TD ALIGN="LEFT">box width grows with the tree depth: one more level of depth</TD></TR>'
        '<TR><TD ALIGN="LEFT">doubles the residual blocks and the aggregation nodes of a stage</TD></TR>'
        "</TABLE></FONT>>"
    )


def family_graph(structures: Sequence[ModelStructure]) -> graphviz.Digraph:
    """The family at a glance: one row per variant, one box per HDA stage (depth, width)."""
    graph = new_digraph("dla_family", "family", "LR",
                        f"The {len(structures)} DLA variants stage by stage: tree depth, output channels "
                        "and residual blocks of each of their four stages.",
                        nodesep="0.08", ranksep="0.25", labelloc="b", label=_channel_legend())
    stages = [st.name for st in structures[0].stages] if structures else []
    header = ["family.variant", *(f"family.{name}" for name in stages)]
    titles = ["variant", *(f"{n} \u00b7 stride {structures[0].stage(n).stride}" for n in stages)]
    for name, words in zip(header, titles):
        graph.node(name, f"<<B>{text(words)}</B>>", id=dom_id(name), shape="plain",
                   tooltip=tooltip(words), **{"class": "header"})
    rows: list[list[str]] = [header]
    for s in structures:
        first = f"{s.variant}.label"
        graph.node(first, _variant_label(s), id=dom_id("family", s.variant), shape="plain",
                   tooltip=tooltip(s.title, s.variant), **{"class": "variant"})
        rows.append([first, *(_family_cell(graph, s, st) for st in s.stages)])
    for row in rows:
        for a, b in zip(row, row[1:]):
            graph.edge(a, b, style="invis", id=dom_id("family", a, "", "invis", "", b))
    with graph.subgraph() as column:  # flat invisible edges fix the row order top to bottom
        column.attr(rank="same")
        for a, b in zip(rows, rows[1:]):
            column.edge(a[0], b[0], style="invis", id=dom_id("family", a[0], "", "order", "", b[0]))
    return graph
