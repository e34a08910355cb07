"""What changes from one DLA variant to another: configuration, and per level the cost,
the receptive field and the memory. Pure data from two measurements; no formatting here
beyond the plain record of :meth:`VariantDiff.to_dict`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from dla_docs.measure.facts import Measurement
from dla_docs.measure.structure import ModelStructure
from dla_docs.zoo.variants import get_config

CONFIG_FIELDS = ("levels", "channels", "block", "cardinality", "base_width", "residual_root")


@dataclass(frozen=True)
class Change:
    """One quantity before (``a``) and after (``b``)."""

    name: str
    a: Any
    b: Any

    @property
    def changed(self) -> bool:
        return self.a != self.b


@dataclass(frozen=True)
class LevelDiff:
    name: str
    parameters: Change
    macs: Change
    receptive_field: Change  # size in input pixels


@dataclass(frozen=True)
class VariantDiff:
    a: str
    b: str
    image_size: int
    config: list[Change]  # only the settings that differ
    totals: list[Change]
    levels: list[LevelDiff]
    memory: list[Change]  # peak bytes per batch size, inference and training

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _change(name: str, a: Any, b: Any) -> Change:
    return Change(name, list(a) if isinstance(a, tuple) else a, list(b) if isinstance(b, tuple) else b)


def diff_variants(a: Measurement, b: Measurement) -> VariantDiff:
    """The differences between two measured variants (same image size)."""
    if a.image_size != b.image_size:
        raise ValueError(f"measured at different sizes: {a.image_size} and {b.image_size}")
    config_a, config_b = get_config(a.variant), get_config(b.variant)
    config = [c for c in (_change(f, getattr(config_a, f), getattr(config_b, f)) for f in CONFIG_FIELDS)
              if c.changed]
    totals = [_change("parameters", a.parameters, b.parameters), _change("macs", a.macs, b.macs),
              _change("flops_model_index", a.flops_model_index, b.flops_model_index),
              _change("activations", a.activations, b.activations),
              _change("checkpoint_bytes", a.checkpoint_bytes, b.checkpoint_bytes)]
    levels = []
    fields_a = {f.name: f.size for f in a.receptive_field.levels} if a.receptive_field else {}
    fields_b = {f.name: f.size for f in b.receptive_field.levels} if b.receptive_field else {}
    for la, lb in zip(a.levels, b.levels):
        levels.append(LevelDiff(la.name, _change("parameters", la.parameters, lb.parameters),
                                _change("macs", la.macs, lb.macs),
                                _change("receptive_field", fields_a.get(la.name), fields_b.get(lb.name))))
    memory = []
    if a.peak_memory and b.peak_memory:
        for pa, pb in zip(a.peak_memory.batches, b.peak_memory.batches):
            memory.append(_change(f"inference, batch {pa.batch}", pa.inference, pb.inference))
            memory.append(_change(f"training, batch {pa.batch}", pa.training, pb.training))
    return VariantDiff(a.variant, b.variant, a.image_size, config, totals, levels, memory)


def changed_nodes(a: ModelStructure, b: ModelStructure) -> set[str]:
    """Nodes of ``b``'s aggregation graph that ``a`` lacks or computes differently."""
    before = {n.id: (n.kind, n.operation, n.channels, n.parameters, n.window) for n in a.nodes()}
    return {n.id for n in b.nodes() if before.get(n.id) != (n.kind, n.operation, n.channels, n.parameters, n.window)}
