"""Iterative deep aggregation: the chain of one variant's levels, small enough for a card."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dla_docs.render.graphs.common import (
    channel_fill, count, dom_id, new_digraph, shape_text, share, text, tooltip,
)
from dla_docs.render.graphs.style import EDGE_STYLES, GREEN, NO_COST_FILL, font_colour
from dla_docs.measure.structure import Level, ModelStructure

if TYPE_CHECKING:
    import graphviz

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
        return _ida_row(["<B>classifier</B>", text(level.operation), f"{level.channels} classes", ""])
    shape = shape_text(level.channels, level.height, level.width)
    return _ida_row([f"<B>{text(level.name)}</B>", text(level.operation), text(shape),
                     f"stride {level.stride}"], root=level.aggregates_input)


def _level_tooltip(level: Level, s: ModelStructure) -> str:
    fraction = share(level.macs, s.totals.macs)
    ida = (["its last root also concatenates its max-pooled input (IDA)"]
           if level.aggregates_input else [])
    return tooltip(level.name, f"output: {shape_text(level.channels, level.height, level.width)}, "
                   f"stride {level.stride}", *ida, f"parameters: {count(level.parameters)}",
                   f"MACs: {count(level.macs)} ({fraction:.2%} of {s.variant})")


def ida_graph(structure: ModelStructure) -> graphviz.Digraph:
    """Iterative deep aggregation: the levels top to bottom, resolution falling, channels rising.

    One row per level, shaded by output channels. A dashed green edge runs from a stage's
    output to the ``root`` cell of the next stage when that stage's last root concatenates
    it again (max-pooled): the iterative aggregation that links the HDA trees.
    """
    s = structure
    prefix = dom_id(s.variant, "ida")
    graph = new_digraph(
        f"{s.variant}_ida", prefix, "TB",
        f"Iterative deep aggregation in {s.variant}: its {len(s.levels)} levels from the image to the "
        "classifier, and the stages whose last root also merges their input.",
        nodesep="0.15", ranksep="0.14")
    graph.attr("node", fontsize="9", shape="box", style="rounded,filled", margin="0.02,0.01")
    image = f"{s.image_size}\u00d7{s.image_size}"
    graph.node("image", _ida_row(["<B>image</B>", "", f"3 \u00d7 {text(image)}", ""]),
               id=dom_id(prefix, "image"), fillcolor=NO_COST_FILL, color=NO_COST_FILL,
               fontcolor=font_colour(NO_COST_FILL),
               tooltip=tooltip(f"input image, 3 \u00d7 {image}"), **{"class": "input"})
    previous = "image"
    for level in s.levels:
        fill = channel_fill(level.channels) if level.kind != "head" else NO_COST_FILL
        graph.node(level.name, _level_label(level), id=dom_id(prefix, level.name), fillcolor=fill,
                   fontcolor=font_colour(fill), tooltip=_level_tooltip(level, s),
                   **{"class": level.kind})
        graph.edge(previous, level.name, id=dom_id(prefix, previous, "", "stage", "", level.name),
                   tooltip=tooltip(f"{previous} \u2192 {level.name}"), **{"class": "stage"},
                   **EDGE_STYLES["chain"])
        if level.aggregates_input:
            graph.edge(f"{previous}:e", f"{level.name}:root:e",
                       id=dom_id(prefix, previous, "", "ida", "", level.name),
                       tooltip=tooltip(f"{level.name}: its last root also concatenates the "
                                       f"max-pooled output of {previous} (IDA)"),
                       style="dashed", color=GREEN, **{"class": "aggregation"})
        previous = level.name
    return graph
