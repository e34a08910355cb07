"""The aggregation structure of a DLA variant: torch-free records.

The graphs, the model pages and the tests share this small data model. Nothing here is a
per-variant table: :mod:`dla_docs.measure.views.structure` reads the structure from the
dataflow of the variant's recorded forward pass, and ``tests/test_structure.py`` checks it
against a real forward pass (hooks on every block and root), so a change to ``forward``
cannot draw a wrong graph.

Node ids are module paths (``level3.tree1.root``) except the one tensor per stage that no
module of the stage produces: its input, ``<stage>.input`` (the previous level's output).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from dla_docs.kinds import check_literal
from dla_docs.measure.geometry import IDENTITY, Window

NodeKind = Literal["input", "downsample", "project", "block", "root"]
"""``input``: the stage's input tensor; ``downsample``: a max-pool whose output is used;
``project``: a 1x1-conv projection shortcut; ``block``: a residual block; ``root``: an
aggregation node."""

EdgeKind = Literal["chain", "downsample", "projection", "shortcut", "aggregation", "residual"]
"""``chain``: the main input of a block, or a stage's output entering the next stage;
``downsample``/``projection``: into a max-pool / a projection; ``shortcut``: the tensor a
block adds to its output when it is not the block's own input; ``aggregation``: one input
concatenated by a root (``index`` gives its position); ``residual``: the root input that a
residual root also adds to its output."""


@dataclass(frozen=True)
class Node:
    """One tensor-producing step of a stage, with its output shape and its cost."""

    id: str
    kind: NodeKind
    stage: str
    module: str | None  # path in the model; None for a stage input (produced elsewhere)
    operation: str  # what the step computes, in words ("Bottleneck, stride 2", "concat 4 ...")
    number: int  # 1-based position among the stage's nodes of the same kind ("block 3")
    channels: int
    height: int
    width: int
    stride: int
    parameters: int
    macs: int
    window: Window = IDENTITY  # pixels of the node's inputs one output pixel reads (see Edge)

    def __post_init__(self) -> None:
        check_literal(self, self.kind, NodeKind)


@dataclass(frozen=True)
class Edge:
    """A tensor flowing from one node to another; ``index`` orders a root's inputs.

    The target's :attr:`Node.window` applies to every edge into it except ``shortcut`` and
    ``residual`` edges, which are added to the target's output pixel for pixel.
    """

    source: str
    target: str
    kind: EdgeKind
    index: int | None = None

    def __post_init__(self) -> None:
        check_literal(self, self.kind, EdgeKind)


@dataclass(frozen=True)
class Stage:
    """One HDA stage (``level2`` ... ``level5``): its tree, flattened into nodes and edges.

    ``edges`` are those whose target is in this stage, so the edge from the previous stage's
    output into ``<stage>.input`` belongs here. ``aggregates_input`` is the IDA link: the
    stage's last root also concatenates the stage's downsampled input.
    """

    name: str
    stride: int
    in_channels: int
    channels: int
    height: int
    width: int
    depth: int
    aggregates_input: bool
    parameters: int
    macs: int
    output: str  # id of the node whose output leaves the stage
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def of_kind(self, kind: str) -> list[Node]:
        return [n for n in self.nodes if n.kind == kind]

    def inputs_of(self, root_id: str) -> list[str]:
        """Sources concatenated by root ``root_id``, in concatenation order."""
        found = [e for e in self.edges if e.target == root_id and e.kind == "aggregation"]
        return [e.source for e in sorted(found, key=lambda e: e.index or 0)]


@dataclass(frozen=True)
class Level:
    """One link of the IDA chain: stem, the six levels, and the classifier head."""

    name: str
    kind: str  # "stem", "conv", "tree" or "head"
    operation: str  # "7\u00d77 conv", "2\u00d7 3\u00d73 conv", "tree, depth 3", "pool + fc"
    stride: int
    channels: int
    height: int
    width: int
    depth: int  # convolutions (stem, conv levels) or tree depth (tree levels); 1 for the head
    aggregates_input: bool
    parameters: int
    macs: int
    window: Window | None = None  # stem and conv levels: from the previous level's output


@dataclass(frozen=True)
class Totals:
    """Whole-model figures that node shares are computed against."""

    parameters: int
    macs: int
    blocks: int
    roots: int


@dataclass(frozen=True)
class ModelStructure:
    """Everything the aggregation graphs of one variant show."""

    variant: str
    title: str
    block: str  # "basic", "bottleneck" or "res2net"
    image_size: int
    residual_root: bool
    levels: tuple[Level, ...]
    stages: tuple[Stage, ...]
    totals: Totals

    def nodes(self) -> Iterator[Node]:
        for stage in self.stages:
            yield from stage.nodes

    def edges(self) -> Iterator[Edge]:
        for stage in self.stages:
            yield from stage.edges

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)
