"""The full HDA graph of one variant: every stage, block, aggregation node (root), max-pool
and projection, with an edge for every tensor a root concatenates, shaded by each node's
share of the variant's MACs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dla_docs.render.graphs.common import (
    count, dom_id, mac_fill, new_digraph, shape_text, share, short, text, tooltip,
)
from dla_docs.render.graphs.style import (
    EDGE_NAMES, EDGE_STYLES, MAC_BINS, NO_COST_FILL, PANEL, PANEL_LINE, SHAPE_NAMES, SHAPES, font_colour,
)
from dla_docs.measure.structure import Edge, ModelStructure, Node, Stage

if TYPE_CHECKING:
    import graphviz


def _node_lines(n: Node) -> tuple[str, str]:
    """Title and detail line of a node: what it is, then its output (or its operation)."""
    title = {
        "input": f"{n.stage} input",
        "downsample": f"max-pool {n.operation.split()[0]}",
        "project": "projection",
        "block": f"block {n.number}",
        "root": f"root {n.number}",
    }[n.kind]
    detail = n.operation.removesuffix(" + BN") if n.kind == "project" else shape_text(n.channels, n.height, n.width)
    return title, detail


def node_tooltip(n: Node, s: ModelStructure, changed: bool = False, fields: Mapping[str, int] | None = None) -> str:
    """A node's details; ``fields`` are the measured receptive fields of the roots (px, by node id)."""
    where = n.module or f"{n.id} (the output of the previous level)"
    fraction = share(n.macs, s.totals.macs)
    field = (fields or {}).get(n.id) if n.kind == "root" else None
    return tooltip(
        where, n.operation, f"output: {shape_text(n.channels, n.height, n.width)}, stride {n.stride}",
        f"parameters: {count(n.parameters)}",
        f"MACs: {count(n.macs)} ({fraction:.2%} of {s.variant})",
        *([f"receptive field: {field} px (all paths)"] if field else []),
        *(["changed from the compared variant"] if changed else []),
    )


def polygon_size(lines: Sequence[str]) -> dict[str, str]:
    """A fixed size for the slanted shapes, which ``dot`` would otherwise make twice as wide.

    The width is a generous estimate of DejaVu Sans at 10 pt (6.6 pt a character, bold
    included) plus room for the slanted sides.
    """
    width = max(len(line) for line in lines) * 6.6 / 72 + 0.4
    return {"fixedsize": "true", "width": f"{width:.2f}", "height": "0.42"}


# A node that a variant diff marks as changed: a thick outline (the fill keeps its meaning).
CHANGED = {"penwidth": "3", "color": "#c2185b"}


def _add_node(graph: graphviz.Digraph, n: Node, s: ModelStructure, prefix: str, changed: bool = False,
              fields: Mapping[str, int] | None = None) -> None:
    fill = mac_fill(share(n.macs, s.totals.macs))
    title, detail = _node_lines(n)
    size = polygon_size([title, detail]) if SHAPES[n.kind]["shape"] == "polygon" else {}
    mark = CHANGED if changed else {}
    graph.node(
        n.id, f"<<B>{text(title)}</B><BR/>{text(detail)}>", id=dom_id(prefix, n.id),
        **{"style": "filled", **SHAPES[n.kind], **size, **mark}, fillcolor=fill,
        fontcolor=font_colour(fill),
        tooltip=node_tooltip(n, s, changed, fields),
        **{"class": n.kind + (" changed" if changed else "")},
    )


def _edge_kind(e: Edge, stage: Stage) -> str:
    """``chain`` edges that leave a stage are drawn (and tested) as ``stage`` edges."""
    return "stage" if e.kind == "chain" and not e.source.startswith(f"{stage.name}.") else e.kind


def _edge_tooltip(e: Edge, kind: str, stage: Stage) -> str:
    words = f"{e.source} \u2192 {e.target}: {EDGE_NAMES[kind]}"
    if e.index is not None:
        words += f" (input {e.index + 1} of {len(stage.inputs_of(e.target))})"
    return tooltip(words)


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
    fraction = share(stage.macs, s.totals.macs)
    ida = "aggregates its input (IDA)" if stage.aggregates_input else "does not aggregate its input"
    left = '<BR ALIGN="LEFT"/>'
    label = (
        f'<<FONT POINT-SIZE="11"><B>{text(stage.name)}</B></FONT>{left}'
        f"stride {stage.stride} \u00b7 {shape_text(stage.channels, stage.height, stage.width)}"
        f" \u00b7 tree depth {stage.depth}{left}{text(ida)}{left}"
        f"{short(stage.parameters)} params \u00b7 {short(stage.macs)} MACs ({fraction:.1%}){left}>"
    )
    name = f"{stage.name}.title"
    cluster.node(name, label, id=dom_id(prefix, name), shape="plain", **{"class": "title"},
                 tooltip=tooltip(f"{stage.name}: parameters {count(stage.parameters)}, "
                                 f"MACs {count(stage.macs)}"))
    with cluster.subgraph() as top:
        top.attr(rank="same")
        top.edge(name, f"{stage.name}.input", style="invis",
                 id=dom_id(prefix, name, "", "invis", "", stage.name, "input"))


def swatch(colour: str) -> str:
    return f'<TD BGCOLOR="{colour}" WIDTH="18" BORDER="1" COLOR="{PANEL_LINE}"> </TD>'


def mac_legend_row() -> str:
    """One table row: a swatch and its range for every bin of :data:`MAC_BINS`."""
    cells, low = ['<TD ALIGN="LEFT"><B>share of MACs</B></TD>'], 0.0
    for bound, colour in MAC_BINS:
        words = f"\u2265 {low:.1%}" if bound == float("inf") else f"{low:.1%}\u2013{bound:.1%}"
        cells.append(f'{swatch(colour)}<TD ALIGN="LEFT">{text(words)}</TD>')
        low = bound
    cells.append(f'{swatch(NO_COST_FILL)}<TD ALIGN="LEFT">none</TD>')
    return "<TR>" + "".join(cells) + "</TR>"


def _edge_legend_rows(per_row: int = 4) -> str:
    glyph = {"dashed": "\u254d\u254d\u254d", "dotted": "\u2504\u2504\u2504"}
    cells = []
    for kind, style in EDGE_STYLES.items():
        line = glyph.get(style.get("style", ""), "\u2501\u2501\u2501")
        cells.append(f'<TD><FONT COLOR="{style["color"]}">{line}</FONT></TD>'
                     f'<TD ALIGN="LEFT">{text(EDGE_NAMES[kind])}</TD><TD WIDTH="14"></TD>')
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    return "".join("<TR>" + "".join(row) + "</TR>" for row in rows)


def _add_legend(graph: graphviz.Digraph, prefix: str) -> str:
    """A legend above the stages: node shapes as real nodes in one row, then the key.

    It is kept short and wide because ``dot`` gives every rank the height of its tallest
    node: a tall legend beside the first stage would stretch that stage.
    """
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(id=dom_id(prefix, "legend"), label="", style="rounded,dashed", color=PANEL_LINE, margin="6")
        names = [f"legend.{kind}" for kind in SHAPES]
        with legend.subgraph() as row:
            row.attr(rank="same")
            for name, (kind, shape) in zip(names, SHAPES.items()):
                size = polygon_size([SHAPE_NAMES[kind]]) if shape["shape"] == "polygon" else {}
                row.node(name, f"<{text(SHAPE_NAMES[kind])}>", id=dom_id(prefix, name),
                         **{"style": "filled", **shape, **size}, fillcolor=NO_COST_FILL,
                         tooltip=tooltip(SHAPE_NAMES[kind]), **{"class": "legend"})
            for a, b in zip(names, names[1:]):  # flat edges keep the shapes in this order
                row.edge(a, b, style="invis", id=dom_id(prefix, a, "", "invis", "", b))
        key = (
            '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            '<TR><TD><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">'
            f"{mac_legend_row()}</TABLE></TD></TR>"
            '<TR><TD><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1">'
            f"{_edge_legend_rows()}</TABLE></TD></TR></TABLE>>"
        )
        legend.node("legend.key", key, id=dom_id(prefix, "legend.key"), shape="plain",
                    tooltip=tooltip("legend"), **{"class": "legend"})
        middle = f"legend.{list(SHAPES)[len(SHAPES) // 2]}"
        legend.edge(middle, "legend.key", style="invis",
                    id=dom_id(prefix, middle, "", "invis", "", "legend.key"))
    return "legend.key"


def hda_graph(structure: ModelStructure, changed: frozenset[str] = frozenset(),
              fields: Mapping[str, int] | None = None) -> graphviz.Digraph:
    """Hierarchical deep aggregation: every stage as a cluster of blocks and roots; ``fields``, the
    measured receptive field of each root (px, by node id), go into the roots' details.

    Stages are stacked top to bottom in forward order, each a chain of blocks with the
    roots in line (a root's output feeds the next subtree) and one green edge for every
    tensor a root concatenates; long green edges are the outputs of earlier subtrees and the
    stage's own downsampled input passed down to the last root.
    """
    s = structure
    prefix = dom_id(s.variant, "hda")
    graph = new_digraph(
        f"{s.variant}_hda", prefix, "TB",
        f"Full hierarchical deep aggregation graph of {s.variant}: all {s.totals.blocks} residual blocks "
        f"and {s.totals.roots} aggregation nodes of its {len(s.stages)} stages, shaded by share of MACs.",
        nodesep="0.25", ranksep="0.28", newrank="true", labelloc="t", fontsize="15",
        label=(f"<<B>{text(s.title)}</B>\u00a0({text(s.variant)}) \u00b7 hierarchical deep aggregation "
               f"\u00b7 {s.image_size}\u00d7{s.image_size} input \u00b7 {short(s.totals.parameters)} "
               f"params \u00b7 {short(s.totals.macs)} MACs>"),
    )
    above = _add_legend(graph, prefix)
    for stage in s.stages:
        with graph.subgraph(name=f"cluster_{stage.name}") as cluster:
            cluster.attr(id=dom_id(prefix, "cluster", stage.name), style="rounded,filled",
                         fillcolor=PANEL, color=PANEL_LINE, margin="10", label="")
            _add_stage_title(cluster, stage, s, prefix)
            for node in stage.nodes:
                _add_node(cluster, node, s, prefix, node.id in changed, fields)
        for edge in stage.edges:
            _add_edge(graph, edge, stage, prefix)
        if above:  # the legend sits above the first stage
            graph.edge(above, f"{stage.name}.title", style="invis",
                       id=dom_id(prefix, above, "", "invis", "", stage.name, "title"))
            above = ""
    return graph

