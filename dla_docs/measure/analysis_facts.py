"""Facts of the architecture analysis: torch-free records, cached with the measurement as JSON.

The computations live in :mod:`~dla_docs.measure.receptive_field`,
:mod:`~dla_docs.measure.memory` and :mod:`~dla_docs.measure.reconcile`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dla_docs.measure.conventions import Convention


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of one level output or aggregation node, in input pixels.

    ``size``: side of the square field; ``stride``: input pixels between neighbouring output
    pixels; ``offset``: centre of output pixel 0's field (negative or half-pixel is normal).
    """

    name: str  # a level name, or a root's node id ("level3.tree1.root")
    stride: int
    size: int
    offset: float


@dataclass(frozen=True)
class ReceptiveFields:
    """Per level output (stem and levels 0-5) and per aggregation node, in graph order."""

    levels: list[ReceptiveField]
    roots: list[ReceptiveField]

    def level(self, name: str) -> ReceptiveField:
        return next(f for f in self.levels if f.name == name)

    def by_name(self) -> dict[str, ReceptiveField]:
        return {f.name: f for f in [*self.levels, *self.roots]}


@dataclass(frozen=True)
class PeakAtBatch:
    """Peak bytes at one batch size: inference (no grad) and one training step."""

    batch: int
    inference: int
    training: int


@dataclass(frozen=True)
class PeakMemory:
    """What stays resident (bytes) and the peaks by batch size, for one image size."""

    image_size: int
    parameters: int  # parameters and BatchNorm running statistics
    gradients: int
    optimizer: int  # SGD momentum buffers
    batches: list[PeakAtBatch]


@dataclass(frozen=True)
class Term:
    """One operator term and what it adds under each convention."""

    name: str
    description: str
    contributions: dict[str, int]  # Convention.key -> operations


@dataclass(frozen=True)
class FlopsReconciliation:
    """Per-operator terms under each convention; totals are the column sums."""

    image_size: int
    terms: list[Term]
    flop_counter_by_operator: dict[str, int]  # FlopCounterMode's own per-operator counts

    def total(self, convention: Convention) -> int:
        return sum(t.contributions.get(convention.key, 0) for t in self.terms)
