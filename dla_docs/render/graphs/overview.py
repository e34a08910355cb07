"""A compact HDA overview for the model card: each depth-1 subtree folded into one node.

An HDA stage of tree depth *d* is a chain of 2^(d-1) depth-1 subtrees, each two residual
blocks merged by one aggregation node (root); the hierarchy lives in which earlier outputs
each root concatenates again. The overview keeps exactly that: one node per root together
with the blocks it merges ("blocks 3-4 + root 2"), the chain between them, and one green edge
for every earlier output a root concatenates (the stage input, max-pooled, for the IDA link).
Stages stand side by side, so the figure stays short and its labels keep their size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dla_docs.render.graphs.common import (
    count, dom_id, mac_fill, new_digraph, shape_text, share, text, tooltip,
)
from dla_docs.render.graphs.style import EDGE_STYLES, NO_COST_FILL, PANEL, PANEL_LINE, font_colour
from dla_docs.measure.structure import ModelStructure, Stage

if TYPE_CHECKING:
    import graphviz


def units(stage: Stage) -> dict[str, list[str]]:
    """Root id -> the root and the blocks it concatenates, in the stage's order."""
    blocks = {n.id for n in stage.of_kind("block")}
    return {root.id: [b for b in stage.inputs_of(root.id) if b in blocks][::-1] + [root.id]
            for root in stage.of_kind("root")}


def _owner(stage: Stage, grouped: dict[str, list[str]]) -> dict[str, str]:
    """Node id -> the overview node that shows it (its unit, or the stage input)."""
    owner = {member: root for root, members in grouped.items() for member in members}
    for n in stage.nodes:
        owner.setdefault(n.id, f"{stage.name}.input")
    return owner


def _add_stage(graph: graphviz.Digraph, s: ModelStructure, stage: Stage, prefix: str,
               fields: Mapping[str, int]) -> tuple[str, str]:
    grouped = units(stage)
    owner = _owner(stage, grouped)
    head = f"{stage.name}.input"
    with graph.subgraph(name=f"cluster_{stage.name}") as cluster:
        cluster.attr(id=dom_id(prefix, "cluster", stage.name), style="rounded,filled", fillcolor=PANEL,
                     color=PANEL_LINE, margin="8", label="")
        cluster.attr("node", group=stage.name)  # one straight column per stage
        cluster.node(
            head, f"<<B>{text(stage.name)}</B> \u00b7 depth {stage.depth}<BR/>"
                  f"{shape_text(stage.channels, stage.height, stage.width)}<BR/>stride {stage.stride}>",
            id=dom_id(prefix, head), shape="box", style="rounded,filled", fillcolor=NO_COST_FILL,
            fontcolor=font_colour(NO_COST_FILL), **{"class": "input"},
            tooltip=tooltip(f"{stage.name}: tree depth {stage.depth}, {len(grouped)} aggregation "
                            f"node{'s' if len(grouped) != 1 else ''}",
                            f"output: {shape_text(stage.channels, stage.height, stage.width)}, stride {stage.stride}",
                            f"parameters: {count(stage.parameters)}",
                            f"MACs: {count(stage.macs)} ({share(stage.macs, s.totals.macs):.2%} of {s.variant})"))
        for root_id, members in grouped.items():
            nodes = [stage.node(m) for m in members]
            blocks = [n.number for n in nodes if n.kind == "block"]
            root = nodes[-1]
            macs = sum(n.macs for n in nodes)
            params = sum(n.parameters for n in nodes)
            fill = mac_fill(share(macs, s.totals.macs))
            span = f"blocks {blocks[0]}\u2013{blocks[-1]}" if len(blocks) > 1 else f"block {blocks[0]}" if blocks else ""
            title = f"{span} + root {root.number}" if span else f"root {root.number}"
            cluster.node(
                root_id, f"<<B>{text(title)}</B><BR/>{share(macs, s.totals.macs):.1%} of MACs>",
                id=dom_id(prefix, root_id), shape="box", style="rounded,filled", fillcolor=fill,
                fontcolor=font_colour(fill), **{"class": "unit"},
                tooltip=tooltip(f"{title}: {', '.join(members)}", root.operation,
                                f"parameters: {count(params)}",
                                f"MACs: {count(macs)} ({share(macs, s.totals.macs):.2%} of {s.variant})",
                                *([f"receptive field of root {root.number}: {fields[root.id]} px (all paths)"]
                                  if root.id in fields else [])))
    seen: set[tuple[str, str, str]] = set()
    for e in stage.edges:
        source, target = owner.get(e.source, e.source), owner[e.target]
        kind = "chain" if e.kind in ("chain", "shortcut") else "aggregation" if e.kind == "aggregation" else ""
        if not kind or source == target or not source.startswith(f"{stage.name}."):
            continue
        if (source, target, "chain") in seen:  # the next subtree's input, also concatenated later
            continue
        seen.add((source, target, kind))
        graph.edge(source, target, id=dom_id(prefix, source, "", kind, "", target), **{"class": kind},
                   tooltip=tooltip(f"{source} \u2192 {target}"),
                   **({**EDGE_STYLES[kind], "style": "dashed"} if source == head else EDGE_STYLES[kind]))
    return head, owner[stage.output]


def overview_graph(structure: ModelStructure, fields: Mapping[str, int] | None = None) -> graphviz.Digraph:
    """The HDA trees of one variant, folded: one node per aggregation node and its blocks;
    ``fields`` are the measured receptive fields of the roots (px, by node id), for the details."""
    s = structure
    prefix = dom_id(s.variant, "overview")
    graph = new_digraph(
        f"{s.variant}_overview", prefix, "TB",
        f"Overview of the aggregation trees of {s.variant}: its {len(s.stages)} stages side by side, "
        f"each aggregation node with the residual blocks it merges, shaded by share of MACs.",
        nodesep="0.2", ranksep="0.22", newrank="true")
    ends = [_add_stage(graph, s, stage, prefix, fields or {}) for stage in s.stages]
    with graph.subgraph() as top:  # stages side by side: their heads on one rank
        top.attr(rank="same")
        for head, _ in ends:
            top.node(head)
    for (_, tail), (head, _) in zip(ends, ends[1:]):
        graph.edge(tail, head, id=dom_id(prefix, tail, "", "stage", "", head), constraint="false",
                   tooltip=tooltip(f"{tail} \u2192 {head}: stage output into the next stage"),
                   **{"class": "stage"}, **EDGE_STYLES["stage"])
    return graph
