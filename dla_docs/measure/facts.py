"""The facts measured about one variant: plain, torch-free dataclasses (cached as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dla_docs.measure.analysis_facts import FlopsReconciliation, PeakMemory, ReceptiveFields
from dla_docs.measure.conventions import Convention
from dla_docs.measure.serial import from_data, to_data
from dla_docs.measure.structure import ModelStructure


@dataclass(frozen=True)
class PartCount:
    """Counts for one top-level part (``base_layer``, ``level0`` ... ``level5``, ``fc``)."""

    parameters: int
    macs: int
    activations: int


@dataclass(frozen=True)
class LevelMeasurement:
    """One level's output (channels, height, width at its stride) and its cost."""

    name: str
    stride: int
    channels: int
    height: int
    width: int
    parameters: int
    macs: int


@dataclass(frozen=True)
class ModuleCount:
    """Parameters and MACs of one named submodule (nodes of the aggregation graphs)."""

    parameters: int
    macs: int


@dataclass(frozen=True)
class Measurement:
    """Everything measured about one variant at one input size."""

    variant: str
    image_size: int
    parameters: int
    macs: int
    flops_model_index: int
    activations: int
    checkpoint_bytes: int
    parts: dict[str, PartCount]
    levels: list[LevelMeasurement]
    macs_by_operator: dict[str, int]
    convention_terms: dict[str, int]
    skipped_ops: dict[str, int]
    skipped_op_elements: dict[str, int]
    modules: dict[str, ModuleCount] = field(repr=False)
    # The architecture analysis (dla_docs.measure.analysis); None where only counted.
    receptive_field: ReceptiveFields | None = None
    peak_memory: PeakMemory | None = None
    flops_reconciliation: FlopsReconciliation | None = None

    def flops(self, convention: Convention) -> int:
        """Total FLOPs under ``convention`` (one of :data:`dla_docs.measure.conventions.SETTABLE`)."""
        return convention.total(self.macs_by_operator, self.convention_terms)

    def to_dict(self) -> dict[str, Any]:
        return to_data(self)

    @classmethod
    def from_dict(cls, data: Any) -> "Measurement":
        """Rebuild from :meth:`to_dict`, every field's type checked; raises :class:`RecordError`."""
        return from_data(cls, data)


@dataclass(frozen=True)
class VariantFacts:
    """What the measuring workers return and the cache keeps for one variant at one size.

    ``notes``: one line each on how it was measured, for the user (e.g. that fvcore traced the
    model itself because a call had no recording rule); empty when nothing is worth saying."""

    measurement: Measurement
    structure: ModelStructure
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return to_data(self)

    @classmethod
    def from_dict(cls, data: Any) -> "VariantFacts":
        return from_data(cls, data)
