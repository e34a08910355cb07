"""The architecture analysis measured with each variant: receptive fields, peak memory, FLOPs table.

Called by :func:`dla_docs.measure.core.measure_facts` (so it runs in the measurement
workers and is cached with the rest). The receptive fields come from the aggregation
structure read from the same model; peak memory and FlopCounterMode's count come from
one forward pass of that model moved to the meta device, where nothing is allocated or computed
(at :data:`~dla_docs.measure.memory.TRACE_BATCH` images; every FlopCounterMode formula is a
product with the batch, so its per-image count is the traced count divided by that batch).
"""

from __future__ import annotations

import dataclasses

from torch import nn

from dla_docs.measure.memory import TRACE_BATCH, measure_peak_memory
from dla_docs.measure.receptive_field import receptive_fields
from dla_docs.measure.reconcile import reconcile
from dla_docs.measure.facts import Measurement
from dla_docs.measure.structure import ModelStructure


class FlopFormulas:
    """FlopCounterMode's own per-operator formulas (``torch.utils.flop_counter.flop_registry``),
    applied to every operator call of a traced forward pass: FlopCounterMode's count without
    running a second pass under it (``tests/test_reconcile.py`` runs FlopCounterMode itself)."""

    def __init__(self) -> None:
        from torch.utils.flop_counter import flop_registry

        self.registry = flop_registry
        self.counts: dict[str, int] = {}

    def __call__(self, func, args: tuple, kwargs: dict, out) -> None:
        formula = self.registry.get(func._overloadpacket)
        if formula is not None:
            name = func._overloadpacket.__name__
            self.counts[name] = self.counts.get(name, 0) + int(formula(*args, **kwargs, out_val=out))

    def per_image(self, batch: int) -> dict[str, int]:
        """The counts of a pass over ``batch`` images, per image, by operator name."""
        if any(count % batch for count in self.counts.values()):
            raise ValueError(f"FlopCounterMode's counts {self.counts} are not a multiple of the batch {batch}")
        return {name: count // batch for name, count in sorted(self.counts.items())}


def analyse(structure: ModelStructure, model: nn.Module, measurement: Measurement) -> Measurement:
    """``measurement`` with the analysis added; ``model`` is the measured one, on the meta device
    (where :func:`~dla_docs.measure.core.measure_model` leaves it)."""
    flops = FlopFormulas()
    memory = measure_peak_memory(model, measurement.image_size, on_operator=flops)
    table = reconcile(measurement.image_size, measurement.macs_by_operator, measurement.convention_terms,
                      flops.per_image(TRACE_BATCH))
    return dataclasses.replace(measurement, receptive_field=receptive_fields(structure), peak_memory=memory,
                               flops_reconciliation=table)
