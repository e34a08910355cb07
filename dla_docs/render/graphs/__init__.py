"""Aggregation graphs of the DLA family, drawn with Graphviz ``dot``.

Four figures, all built from :mod:`dla_docs.measure.structure` and nothing else:

- :func:`hda_graph` (:mod:`.hda`): one variant's stages as clusters, every residual block,
  aggregation node (root), max-pool and projection, shaded by each node's share of the MACs;
- :func:`overview_graph` (:mod:`.overview`): the same trees folded, one node per root and
  the blocks it merges, stages side by side: the compact figure on a model card;
- :func:`ida_graph` (:mod:`.ida`): the chain of levels (iterative deep aggregation);
- :func:`family_graph` (:mod:`.family`): the 12 variants side by side, stage by stage.

Colours and their dark-palette counterparts are in :mod:`.style`; ids, rendering and the
accessible inline form in :mod:`.common`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dla_docs.render.graphs.common import (
    DOT_MISSING, FORMATS, channel_fill, dom_id, mac_fill, render, render_svg, require_dot, svg_for_inline,
)
from dla_docs.render.graphs.family import family_graph
from dla_docs.render.graphs.hda import hda_graph
from dla_docs.render.graphs.ida import ida_graph
from dla_docs.render.graphs.overview import overview_graph
from dla_docs.render.graphs.style import (
    CHANNEL_FILLS, EDGE_NAMES, EDGE_STYLES, FONT, MAC_BINS, NO_COST_FILL, SHAPES, contrast, font_colour, graph_css,
)
from dla_docs.measure.facts import Measurement, VariantFacts

if TYPE_CHECKING:
    import graphviz

def root_fields(measurement: Measurement) -> dict[str, int]:
    """The measured receptive field of every aggregation node (px, by node id) for the HDA details."""
    analysed = measurement.receptive_field
    return {field.name: field.size for field in analysed.roots} if analysed is not None else {}


def _hda(facts: VariantFacts) -> graphviz.Digraph:
    return hda_graph(facts.structure, fields=root_fields(facts.measurement))


GRAPH_KINDS: dict[str, Callable[[VariantFacts], graphviz.Digraph]] = {
    "hda": _hda,
    "ida": lambda facts: ida_graph(facts.structure),
    "overview": lambda facts: overview_graph(facts.structure, fields=root_fields(facts.measurement)),
}
"""Each per-variant figure, drawn from a variant's facts (its structure, and what was measured)."""

__all__ = [
    "CHANNEL_FILLS", "DOT_MISSING", "EDGE_NAMES", "EDGE_STYLES", "FONT", "FORMATS", "GRAPH_KINDS", "MAC_BINS",
    "NO_COST_FILL", "SHAPES", "channel_fill", "contrast", "dom_id", "family_graph", "font_colour", "graph_css",
    "hda_graph", "ida_graph", "mac_fill", "overview_graph", "render", "render_svg", "require_dot", "root_fields",
    "svg_for_inline",
]
