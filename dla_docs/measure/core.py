"""Measure one variant: parameters, MACs, FLOPs, activations, checkpoint size, level shapes,
aggregation structure and architecture analysis.

The model is built without weight initialisation (the numbers depend on shapes only), its
parameters are counted and its checkpoint sized, then it moves to the meta device and runs
one inference pass, recorded (:func:`~dla_docs.measure.recording.record_forward`). Every count,
the level shapes, the aggregation structure, the receptive-field windows, the inference peak
memory and FlopCounterMode's count are views of that one recording
(:class:`dla_docs.measure.views.Views`); the training peak memory is the one other pass.
Importing this module measures nothing.
"""

from __future__ import annotations

from torch import nn

from dla_docs.measure import counting
from dla_docs.measure.analysis import analyse
from dla_docs.measure.checkpoint import checkpoint_bytes
from dla_docs.measure.conventions import MODEL_INDEX
from dla_docs.measure.facts import Measurement, ModuleCount, PartCount, VariantFacts
from dla_docs.measure.recording import record_forward
from dla_docs.measure.spec import DEFAULT_IMAGE_SIZE, check_image_size
from dla_docs.measure.views import Views
from dla_docs.zoo.factory import create_uninitialised
from dla_docs.zoo.network import LEVEL_NAMES, PARTS


def _parameter_counts(model: nn.Module) -> dict[str, int]:
    """Parameters of every named module, including its descendants."""
    own = {name: sum(p.numel() for p in m.parameters(recurse=False)) for name, m in model.named_modules()}
    totals = dict.fromkeys(own, 0)
    for name, n in own.items():
        parts = name.split(".") if name else []
        for depth in range(len(parts) + 1):
            totals[".".join(parts[:depth])] += n
    return totals


def _measure(name: str, model: nn.Module, image_size: int) -> tuple[Measurement, Views, tuple[str, ...]]:
    """The measurement of ``model`` (variant ``name``, built on the CPU), the views it was read
    from, and its notes. The model ends on the meta device."""
    check_image_size(image_size)
    params = _parameter_counts(model)
    checkpoint = checkpoint_bytes(model.state_dict())
    model.to_empty(device="meta")  # every figure below depends on shapes only
    views = Views(model, record_forward(model, image_size), image_size)
    counts = views.counts
    by_module = counts.by_module
    totals = by_module[""]

    def macs_of(module: str) -> int:
        return counting.total(by_module[module], counting.MACS)

    measurement = Measurement(
        variant=name,
        image_size=image_size,
        parameters=params[""],
        macs=counting.total(totals, counting.MACS),
        flops_model_index=counting.convention_total(totals, MODEL_INDEX),
        activations=counting.total(totals, counting.ACTS),
        checkpoint_bytes=checkpoint,
        parts={
            part: PartCount(params[part], macs_of(part), counting.total(by_module[part], counting.ACTS))
            for part in PARTS
        },
        levels=views.levels(LEVEL_NAMES, params, {n: macs_of(n) for n in LEVEL_NAMES}),
        macs_by_operator=counting.select(totals, counting.MACS),
        convention_terms=counting.select(totals, counting.EXTRA),
        skipped_ops=counting.merge_skipped(counting.select(totals, counting.SKIPPED), counts.unsupported.items()),
        skipped_op_elements=counting.select(totals, counting.SKIPPED_ELEMS),
        modules={module: ModuleCount(params[module], macs_of(module)) for module in sorted(params) if module},
    )
    return measurement, views, (f"{name}: {counts.note}",) if counts.note else ()


def measure_facts(name: str, image_size: int = DEFAULT_IMAGE_SIZE) -> VariantFacts:
    """Measure variant ``name`` on one ``1x3xSxS`` image in eval mode: its measurement with the
    architecture analysis, its aggregation structure, and notes on how it was measured."""
    measurement, views, notes = _measure(name, create_uninitialised(name), image_size)
    structure = views.structure(name, measurement)
    return VariantFacts(analyse(structure, views, measurement), structure, notes)
