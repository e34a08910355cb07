"""Measure one variant: parameters, MACs, FLOPs, activations, checkpoint size, level shapes.

A single fvcore analysis (see :mod:`dla_docs.measure.counting`) feeds every count, and the model
is built without weight initialisation: the numbers depend on shapes only. fvcore walks the
graph of one forward pass on the meta device (:mod:`dla_docs.measure.recorder`), which also
gives the level shapes; the model ends on the meta device.
"""

from __future__ import annotations

from typing import Any

import torch
from fvcore.nn.jit_analysis import JitModelAnalysis
from torch import nn

from dla_docs.measure import counting
from dla_docs.measure.checkpoint import checkpoint_bytes
from dla_docs.measure.recorder import recorded
from dla_docs.measure.facts import (
    LevelMeasurement,
    Measurement,
    ModuleCount,
    PartCount,
    VariantFacts,
)
from dla_docs.measure.spec import DEFAULT_IMAGE_SIZE, check_image_size
from dla_docs.zoo.factory import create_uninitialised
from dla_docs.zoo.network import LEVEL_NAMES, PARTS


def _analysis(model: nn.Module, image: torch.Tensor) -> JitModelAnalysis:
    analysis = JitModelAnalysis(model, (image,))
    analysis.set_op_handle(**counting.combined_handles())
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analysis.tracer_warnings("none")


def _parameter_counts(model: nn.Module) -> dict[str, int]:
    """Parameters of every named module, including its descendants."""
    own = {name: sum(p.numel() for p in m.parameters(recurse=False)) for name, m in model.named_modules()}
    totals = dict.fromkeys(own, 0)
    for name, n in own.items():
        parts = name.split(".") if name else []
        for depth in range(len(parts) + 1):
            totals[".".join(parts[:depth])] += n
    return totals


def _capture_level_shapes(model: nn.Module) -> tuple[dict[str, tuple[int, ...]], list[Any]]:
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for name in LEVEL_NAMES:
        def hook(_m: nn.Module, _i: Any, out: torch.Tensor, name: str = name) -> None:
            shapes[name] = tuple(out.shape)
        handles.append(getattr(model, name).register_forward_hook(hook))
    return shapes, handles


def measure_variant(name: str, image_size: int = DEFAULT_IMAGE_SIZE) -> Measurement:
    """Measure variant ``name`` on one ``1x3xSxS`` image in eval mode."""
    return measure_model(name, create_uninitialised(name), image_size)


def measure_model(name: str, model: nn.Module, image_size: int = DEFAULT_IMAGE_SIZE) -> Measurement:
    """Measure ``model`` (variant ``name``, built uninitialised on the CPU) on one ``1x3xSxS`` image.

    The model ends on the meta device (its storage is no longer needed).
    """
    check_image_size(image_size)
    model.eval()
    params = _parameter_counts(model)
    checkpoint = checkpoint_bytes(model.state_dict())
    model.to_empty(device="meta")  # every count below depends on shapes only
    shapes, hooks = _capture_level_shapes(model)
    with recorded():
        analysis = _analysis(model, torch.empty(1, 3, image_size, image_size, device="meta"))
        by_module = analysis.by_module_and_operator()
    for hook in hooks:
        hook.remove()
    counts = by_module[""]

    def macs_of(module: str) -> int:
        return counting.total(by_module[module], counting.MACS)

    levels = []
    for info in model.level_info:
        _, channels, height, width = shapes[info.name]
        levels.append(
            LevelMeasurement(info.name, info.stride, int(channels), int(height), int(width),
                             params[info.name], macs_of(info.name))
        )
    macs = counting.total(counts, counting.MACS)
    return Measurement(
        variant=name,
        image_size=image_size,
        parameters=params[""],
        macs=macs,
        flops_model_index=counting.convention_total(counts, "model-index"),
        activations=counting.total(counts, counting.ACTS),
        checkpoint_bytes=checkpoint,
        parts={
            part: PartCount(params[part], macs_of(part), counting.total(by_module[part], counting.ACTS))
            for part in PARTS
        },
        levels=levels,
        macs_by_operator=counting.select(counts, counting.MACS),
        convention_terms=counting.select(counts, counting.EXTRA),
        skipped_ops=counting.merge_skipped(
            counting.select(counts, counting.SKIPPED), analysis.unsupported_ops().items()
        ),
        skipped_op_elements=counting.select(counts, counting.SKIPPED_ELEMS),
        modules={
            module: ModuleCount(params[module], macs_of(module))
            for module in sorted(params)
            if module
        },
    )


def measure_facts(name: str, image_size: int = DEFAULT_IMAGE_SIZE) -> VariantFacts:
    """Measure variant ``name``, read its aggregation structure from the same model, analyse both."""
    from dla_docs.measure.extract import extract_structure

    from dla_docs.measure.analysis import analyse

    model = create_uninitialised(name)
    measurement = measure_model(name, model, image_size)
    structure = extract_structure(name, measurement, model)
    return VariantFacts(analyse(structure, model, measurement), structure)
