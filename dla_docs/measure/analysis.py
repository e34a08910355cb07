"""The architecture analysis measured with each variant: receptive fields, peak memory, FLOPs table.

Called by :func:`dla_docs.measure.core.measure_facts` (so it runs in the measurement
workers and is cached with the rest). The receptive fields come from the aggregation
structure; peak memory and FlopCounterMode's count come from the passes the memory tracer
runs on the model on the meta device, where nothing is allocated or computed (at
:data:`~dla_docs.measure.memory.TRACE_BATCH` images; every FlopCounterMode formula is a
product with the batch, so its per-image count is the traced count divided by that batch).
"""

from __future__ import annotations

import dataclasses

from torch import nn

from dla_docs.measure.adapters.torch_private import FlopCounterFormulas
from dla_docs.measure.facts import Measurement
from dla_docs.measure.memory import TRACE_BATCH, measure_peak_memory
from dla_docs.measure.receptive_field import receptive_fields
from dla_docs.measure.reconcile import reconcile
from dla_docs.measure.structure import ModelStructure


def analyse(structure: ModelStructure, model: nn.Module, measurement: Measurement) -> Measurement:
    """``measurement`` with the analysis added; ``model`` is the measured one, on the meta device."""
    flops = FlopCounterFormulas()  # FlopCounterMode's count, read from the inference pass
    memory = measure_peak_memory(model, measurement.image_size, on_operator=flops)
    table = reconcile(measurement.image_size, measurement.macs_by_operator, measurement.convention_terms,
                      flops.per_image(TRACE_BATCH, model, measurement.image_size))
    return dataclasses.replace(measurement, receptive_field=receptive_fields(structure), peak_memory=memory,
                               flops_reconciliation=table)
