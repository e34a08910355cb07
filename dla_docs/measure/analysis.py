"""The architecture analysis measured with each variant: receptive fields, peak memory, FLOPs table.

Called by :func:`dla_docs.measure.core.measure_facts` (so it runs in the measurement
workers and is cached with the rest). The receptive fields come from the aggregation
structure read from the same model; peak memory and FlopCounterMode's count come from
that model moved to the meta device, where nothing is allocated or computed.
"""

from __future__ import annotations

import dataclasses

from torch import nn

from dla_docs.measure.memory import measure_peak_memory
from dla_docs.measure.receptive_field import receptive_fields
from dla_docs.measure.reconcile import reconcile
from dla_docs.measure.record import Measurement
from dla_docs.measure.structure import ModelStructure


def flop_counter_counts(counter) -> dict[str, int]:
    """FlopCounterMode's whole-model counts, keyed by operator name without ``aten.``."""
    counts = counter.get_flop_counts().get("Global", {})
    return {str(op).split(".")[-1] if str(op).count(".") == 1 else str(op).split(".")[1]: int(n)
            for op, n in counts.items()}


def analyse(structure: ModelStructure, model: nn.Module, measurement: Measurement) -> Measurement:
    """``measurement`` with the analysis added; ``model`` (the measured one) ends on the meta device."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    model.to_empty(device="meta")  # drops the CPU storage: shapes are all that is left to use
    memory = measure_peak_memory(model, measurement.image_size, inner=counter)
    table = reconcile(measurement.image_size, measurement.macs_by_operator, measurement.convention_terms,
                      flop_counter_counts(counter))
    return dataclasses.replace(measurement, receptive_field=receptive_fields(structure), peak_memory=memory,
                               flops_reconciliation=table)
