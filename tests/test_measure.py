"""Measurement: published figures reproduced exactly, parts and levels equal to the model and to
fvcore's own trace, cache sound."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from dla_docs import list_models
from dla_docs.measure.core import measure_facts
from dla_docs.measure.facts import Measurement
from dla_docs.measure.spec import InvalidImageSize
from dla_docs.zoo.factory import create_uninitialised

VARIANTS = list_models()


@pytest.mark.parametrize("name", VARIANTS)
def test_model_index_flops_reproduce_seed_exactly(name, measurements, seed_flops):
    assert measurements[name].flops_model_index == seed_flops[name]


@pytest.mark.parametrize("name", VARIANTS)
def test_parameters_equal_reference(name, measurements, reference):
    assert measurements[name].parameters == reference[name]["parameters"]


@pytest.mark.parametrize("name", VARIANTS)
def test_part_parameters_are_what_torch_counts_in_the_model(name, measurements):
    """The oracle is the built model itself: each part's submodule and the whole model, counted by
    torch (the parts' MACs and activations are checked against fvcore's own trace below)."""
    model = create_uninitialised(name)
    m = measurements[name]
    assert {child for child, module in model.named_children() if next(module.parameters(), None) is not None} <= set(m.parts)
    assert {part: p.parameters for part, p in m.parts.items()} == {
        part: sum(t.numel() for t in getattr(model, part).parameters()) for part in m.parts}
    assert m.parameters == sum(t.numel() for t in model.parameters())


def hand_counted_macs(model: torch.nn.Module, levels: list[str]) -> dict[str, int]:
    """Each level's multiply-adds counted by hand from the architecture: a forward pass on the
    meta device (torch's own kernels, hooks on every layer) gives each layer's output shape; a
    convolution costs k*k*C_in/groups per output element, an inference BatchNorm 2 per element
    (scale and shift), as fvcore counts them; nothing else in a level has a cost."""
    macs = dict.fromkeys(levels, 0)

    def conv(level, layer, _inputs, out):
        macs[level] += out.numel() * layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]

    def norm(level, layer, _inputs, out):
        macs[level] += out.numel() * (2 if layer.affine else 1)

    model = model.to_empty(device="meta").eval()
    for level in levels:
        for layer in getattr(model, level).modules():
            if isinstance(layer, torch.nn.Conv2d):
                layer.register_forward_hook(lambda *a, level=level: conv(level, *a))
            elif isinstance(layer, torch.nn.BatchNorm2d):
                layer.register_forward_hook(lambda *a, level=level: norm(level, *a))
    with torch.no_grad():
        model(torch.empty(1, 3, 224, 224, device="meta"))
    return macs


@pytest.mark.parametrize("name", VARIANTS)
def test_levels_shapes_and_costs(name, measurements):
    """Each level's cost against a count independent of the measurement: parameters counted by
    torch in the level's module, multiply-adds by hand from its layers (:func:`hand_counted_macs`)."""
    m = measurements[name]
    assert [lvl.name for lvl in m.levels] == [f"level{i}" for i in range(6)]
    assert [lvl.stride for lvl in m.levels] == [1, 2, 4, 8, 16, 32]
    assert [lvl.height for lvl in m.levels] == [224 // s for s in (1, 2, 4, 8, 16, 32)]
    model = create_uninitialised(name)
    assert {lvl.name: lvl.parameters for lvl in m.levels} == {
        lvl.name: sum(t.numel() for t in getattr(model, lvl.name).parameters()) for lvl in m.levels}
    assert {lvl.name: lvl.macs for lvl in m.levels} == hand_counted_macs(model, [lvl.name for lvl in m.levels])


@pytest.mark.parametrize("name", [name if name in ("dla34", "dla46x_c", "dla60_res2next")
                                  else pytest.param(name, marks=pytest.mark.slow) for name in VARIANTS])
def test_counts_equal_a_real_fvcore_trace_at_full_size_module_by_module(name, measurements):
    """fvcore walks the nodes recorded on the meta device (dla_docs.measure.recording); the oracle
    is fvcore itself tracing the model on a real 224x224 image, with the project's handles."""
    from fvcore.nn.jit_analysis import JitModelAnalysis

    from dla_docs.measure import counting
    from dla_docs.measure.conventions import MODEL_INDEX

    model = create_uninitialised(name).eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.zero_()
        analysis = JitModelAnalysis(model, (torch.zeros(1, 3, 224, 224),))
        analysis.set_op_handle(**counting.combined_handles())
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        by_module = analysis.by_module_and_operator()
    m = measurements[name]
    assert counting.total(by_module[""], counting.MACS) == m.macs
    assert counting.convention_total(by_module[""], MODEL_INDEX) == m.flops_model_index
    assert counting.total(by_module[""], counting.ACTS) == m.activations
    assert counting.select(by_module[""], counting.EXTRA) == m.convention_terms
    assert counting.merge_skipped(counting.select(by_module[""], counting.SKIPPED),
                                  analysis.unsupported_ops().items()) == m.skipped_ops
    assert counting.select(by_module[""], counting.SKIPPED_ELEMS) == m.skipped_op_elements
    assert {module: counting.total(by_module[module], counting.MACS) for module in m.modules} == {
        module: count.macs for module, count in m.modules.items()}
    assert {part: (counting.total(by_module[part], counting.MACS), counting.total(by_module[part], counting.ACTS))
            for part in m.parts} == {part: (p.macs, p.activations) for part, p in m.parts.items()}
    real_levels = {}
    hooks = [getattr(model, level.name).register_forward_hook(
        lambda _m, _i, out, name=level.name: real_levels.__setitem__(name, tuple(out.shape[1:])))
        for level in m.levels]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for hook in hooks:
        hook.remove()
    assert {level.name: (level.channels, level.height, level.width) for level in m.levels} == real_levels


@pytest.mark.parametrize("name", VARIANTS)
def test_checkpoint_bytes_close_to_raw_float32_size(name, measurements):
    """Raw tensor bytes plus a bounded zip/pickle overhead per state-dict entry.

    The overhead (about 330 bytes an entry) is under 1% for every variant but the three
    compact ``_c`` ones (4-5 MB of weights and 290-374 entries), where it is 1.3-2.3%.
    """
    state = create_uninitialised(name).state_dict()
    raw = sum(v.numel() * v.element_size() for v in state.values())
    overhead = measurements[name].checkpoint_bytes - raw
    assert 0 < overhead <= 400 * len(state)
    limit = 0.01 if raw > 50_000_000 else 0.025
    assert overhead / raw < limit


def test_checkpoint_bytes_equal_a_real_saved_file(tmp_path):
    model = create_uninitialised("dla46x_c")
    path = tmp_path / "ckpt.pth"
    with path.open("wb") as f:
        torch.save(model.state_dict(), f)
    assert measure_facts("dla46x_c").measurement.checkpoint_bytes == path.stat().st_size


def test_res2net_skipped_ops_reported_with_sizes(measurements):
    m = measurements["dla60_res2net"]
    assert m.skipped_ops["aten::avg_pool2d"] == 4
    assert m.convention_terms["avg_pool2d"] == m.skipped_op_elements["aten::avg_pool2d"] > 0
    assert "aten::avg_pool2d" not in measurements["dla34"].skipped_ops


def test_image_size_changes_macs(measurements):
    small = measure_facts("dla34", 128).measurement
    assert small.image_size == 128
    assert [lvl.height for lvl in small.levels] == [128, 64, 32, 16, 8, 4]
    assert small.macs < measurements["dla34"].macs


@pytest.mark.parametrize("size", [0, 16, 112, 225, 4096])
def test_image_size_must_be_a_multiple_of_32_in_range(size):
    with pytest.raises(InvalidImageSize, match="multiple of 32"):
        measure_facts("dla34", size)


def test_measurement_round_trips_through_dict(measurements):
    m = measurements["dla102"]
    assert Measurement.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_measuring_imports_neither_sympy_nor_dynamo():
    """Both come in through torch's Python meta kernels and reference decompositions (about a
    second per worker); the meta shape rules keep every variant off them."""
    code = ("import sys\nfrom dla_docs.measure.core import measure_facts\n"
            "for name in ('dla46_c', 'dla60_res2next'):\n    measure_facts(name)\n"
            "print(sorted(m for m in ('sympy', 'torch._dynamo') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
