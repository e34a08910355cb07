"""The architecture analysis measured with each variant: receptive fields, peak memory, FLOPs table.

Called by :func:`dla_docs.measure.core.measure_facts` (so it runs in the measurement
workers and is cached with the rest). The receptive fields come from the aggregation
structure; peak memory and FlopCounterMode's count are views of the recorded inference pass
(:class:`~dla_docs.measure.views.Views`; the training peak traces one more pass).
"""

from __future__ import annotations

import dataclasses

from dla_docs.measure.facts import Measurement
from dla_docs.measure.receptive_field import receptive_fields
from dla_docs.measure.reconcile import reconcile
from dla_docs.measure.structure import ModelStructure
from dla_docs.measure.views import Views


def analyse(structure: ModelStructure, views: Views, measurement: Measurement) -> Measurement:
    """``measurement`` with the analysis added, read from ``views`` of its recorded pass."""
    table = reconcile(measurement.image_size, measurement.macs_by_operator, measurement.convention_terms,
                      views.flop_counter)
    return dataclasses.replace(measurement, receptive_field=receptive_fields(structure), peak_memory=views.memory,
                               flops_reconciliation=table)
