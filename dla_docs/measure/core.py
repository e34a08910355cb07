"""Measure one variant: parameters, MACs, FLOPs, activations, checkpoint size, level shapes.

A single fvcore trace (see :mod:`dla_docs.measure.counting`) feeds every count, and the model is
built without weight initialisation: the numbers depend on shapes only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch
from fvcore.nn.jit_analysis import JitModelAnalysis
from torch import nn

from dla_docs.measure import counting
from dla_docs.measure.checkpoint import checkpoint_bytes
from dla_docs.zoo.network import LEVEL_NAMES, PARTS
from dla_docs.zoo.variants import create_uninitialised

DEFAULT_IMAGE_SIZE = 224
# Five stride-2 stages: each aggregation node concatenates a max-pooled and a strided-conv
# path, whose sizes agree only when the side is a multiple of 32.
IMAGE_SIZE_STEP = 32
MIN_IMAGE_SIZE = 32
MAX_IMAGE_SIZE = 2048


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

    def flops(self, convention: str) -> int:
        """Total FLOPs under a named convention of :data:`dla_docs.measure.counting.CONVENTIONS`."""
        return self.macs + sum(self.convention_terms.get(t, 0) for t in counting.CONVENTIONS[convention])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Measurement":
        """Rebuild from :meth:`to_dict`; raises ``KeyError``/``TypeError`` on a damaged record."""
        fields = {f.name for f in dataclasses.fields(cls)}
        if set(data) != fields:
            raise KeyError(f"fields differ: {sorted(set(data) ^ fields)}")
        return cls(
            **{
                **data,
                "parts": {k: PartCount(**v) for k, v in data["parts"].items()},
                "levels": [LevelMeasurement(**v) for v in data["levels"]],
                "modules": {k: ModuleCount(**v) for k, v in data["modules"].items()},
            }
        )


class InvalidImageSize(ValueError):
    pass


def check_image_size(image_size: int) -> int:
    if not (MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE and image_size % IMAGE_SIZE_STEP == 0):
        raise InvalidImageSize(
            f"image size must be a multiple of {IMAGE_SIZE_STEP} from {MIN_IMAGE_SIZE} to "
            f"{MAX_IMAGE_SIZE} pixels, got {image_size}"
        )
    return image_size


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
    check_image_size(image_size)
    model = create_uninitialised(name).eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.zero_()  # deterministic, finite values; cheaper than any initialiser
    params = _parameter_counts(model)
    shapes, hooks = _capture_level_shapes(model)
    image = torch.zeros(1, 3, image_size, image_size)
    with torch.no_grad():
        analysis = _analysis(model, image)
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
        checkpoint_bytes=checkpoint_bytes(model.state_dict()),
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
