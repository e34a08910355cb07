"""Receptive fields computed through the aggregation structure, against gradients of real models.

Oracle: every pooling is made linear (max-pools become average pools), every weight a
positive constant and every BatchNorm the identity, so no path can cancel another and
ReLUs pass everything (all activations stay positive). The input pixels with a non-zero
gradient of one output pixel are then exactly its receptive field, clipped to the image.
One column per check: the input is tall and 32 pixels wide, and the gradient is summed over
the width and the channels.

Channel widths and groups change no window: the gradients run on each variant's
architecture with a few channels per level and no groups (seconds instead of minutes), and a
separate test proves that this thin model has exactly the nodes, edges and windows of the
real variant.
"""

from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

from dla_docs import list_models
from dla_docs.measure.receptive_field import receptive_fields
from dla_docs.zoo.blocks import AggregationNode
from dla_docs.measure.geometry import Window
from dla_docs.measure.views import Views
from dla_docs.measure.recording import record_forward
from dla_docs.measure.views.windows import window
from dla_docs.zoo.network import DLA
from dla_docs.zoo.factory import BLOCKS
from dla_docs.zoo.variants import get_config

HEIGHT, WIDTH = 256, 32  # multiples of 32 (the aggregation nodes join two strided paths)


def _linear_positive(model: nn.Module) -> nn.Module:
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(module, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.fill_(1.0 / fan_in)
                if module.bias is not None:
                    module.bias.fill_(0.0)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
    return model.eval()


def _thin(variant: str) -> DLA:
    """The variant's architecture (levels, block, residual roots) with 4-14 channels, no groups.

    Channel widths keep their order and their equalities (equal widths mean no projection)."""
    config = get_config(variant)
    widths = sorted(set(config.channels))
    thin = tuple(4 + 2 * widths.index(c) for c in config.channels)
    with torch.device("meta"):
        model = DLA(config.levels, thin, BLOCKS[config.block], residual_root=config.residual_root)
    return model.to_empty(device="cpu")


def _structure_of(model, variant: str, measurement):
    """The structure of ``model`` recorded at the measurement's size, read as measuring reads it (Views)."""
    size = measurement.image_size
    return Views(model, record_forward(model, size), size).structure(variant, measurement)


def _geometry(structure) -> tuple:
    return ([(n.id, n.kind, n.window) for n in structure.nodes()], list(structure.edges()),
            [(level.name, level.kind, level.window) for level in structure.levels])


@pytest.mark.parametrize("variant", list_models())
def test_thin_model_has_the_variants_windows(variant, measurements, structures):
    real = structures[variant]
    thin = _structure_of(_thin(variant), variant, measurements[variant])
    assert _geometry(thin) == _geometry(real)


@functools.lru_cache(maxsize=None)
def _support(variant: str) -> dict[str, tuple[int, int, int, int]]:
    """Per level and root: (first, last) input rows with a non-zero gradient, for its first
    and for its last output row. One backward pass: each check has its own image in the batch
    (eval mode, so the images never mix)."""
    model = _linear_positive(_thin(variant))
    names = {m: n for n, m in model.named_modules()}
    watched = [n for n, m in model.named_modules()
               if isinstance(m, AggregationNode) or n in ("base_layer", *[f"level{i}" for i in range(6)])]
    outputs: dict[str, torch.Tensor] = {}
    for name in watched:
        model.get_submodule(name).register_forward_hook(lambda m, i, out: outputs.__setitem__(names[m], out))
    image = torch.ones(2 * len(watched), 3, HEIGHT, WIDTH, requires_grad=True)
    model.forward_levels(image)
    picked = []
    for k, name in enumerate(watched):
        last = outputs[name].shape[2] - 1
        picked += [outputs[name][2 * k, :, 0, :].sum(), outputs[name][2 * k + 1, :, last, :].sum()]
    (grad,) = torch.autograd.grad(torch.stack(picked).sum(), image)
    rows = grad.sum(dim=(1, 3)) > 0  # (image, row)
    found = {}
    for k, name in enumerate(watched):
        spans = []
        for i in (2 * k, 2 * k + 1):
            nonzero = rows[i].nonzero().flatten()
            spans += [int(nonzero[0]), int(nonzero[-1])]
        found[name] = tuple(spans)
    return found


def _expected(window: Window, rows: int) -> tuple[int, int, int, int]:
    spans = []
    for row in (0, rows - 1):
        spans += [max(0, window.stride * row + window.start), min(HEIGHT - 1, window.stride * row + window.end)]
    return tuple(spans)


# The thin model ignores widths and groups, so variants with the same levels, block and root
# share one geometry: the fast subset keeps one of each (basic; bottleneck at 46, 60, 102 with
# residual roots, 169; Res2Net), the others run in `make test-all`.
GEOMETRIES = ("dla34", "dla46_c", "dla60", "dla102x2", "dla169", "dla60_res2net")


@pytest.mark.parametrize("variant", [v if v in GEOMETRIES else pytest.param(v, marks=pytest.mark.slow)
                                     for v in list_models()])
def test_receptive_fields_match_gradient_support(variant, measurements):
    structure = _structure_of(_thin(variant), variant, measurements[variant])
    fields = receptive_fields(structure)
    support = _support(variant)
    checked = 0
    for field in [*fields.levels, *fields.roots]:
        start = field.offset - (field.size - 1) / 2
        window = Window(field.stride, int(start), int(start) + field.size - 1)
        rows = HEIGHT // field.stride
        assert support[field.name] == _expected(window, rows), (field, support[field.name])
        checked += 1
    assert checked == len(fields.levels) + len(fields.roots) == 7 + structure.totals.roots


def test_fields_grow_and_fit_the_published_strides(structures):
    fields = receptive_fields(structures["dla34"])
    sizes = [f.size for f in fields.levels]
    assert sizes == sorted(sizes) and [f.stride for f in fields.levels] == [1, 1, 2, 4, 8, 16, 32]
    # The stem's 7x7 convolution and level 0's 3x3: fixed by the architecture, not by this code.
    assert sizes[:2] == [7, 9]


class _Sigmoid(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)


def test_a_window_through_a_function_it_cannot_place_is_refused_with_its_name():
    """Known functions compose (a 3x3 convolution, then a 2x2 max-pool); an unknown one raises."""
    known = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)).to_empty(device="meta")
    recording = record_forward(known, 8)
    assert window(recording, recording.modules[0]) == Window(2, -1, 2)  # pixels 2i-1 .. 2i+2
    unknown = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), _Sigmoid()).to_empty(device="meta")
    recording = record_forward(unknown, 8)
    with pytest.raises(ValueError, match="no window for function 'sigmoid'"):
        window(recording, recording.modules[0])
