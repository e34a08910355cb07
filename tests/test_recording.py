"""The recorded forward pass, against the oracles it replaces: torch's JIT tracer and fvcore's own trace."""

from __future__ import annotations

import pytest
import torch
from fvcore.nn import FlopCountAnalysis
from fvcore.nn.jit_analysis import JitModelAnalysis, _get_scoped_trace_graph
from fvcore.nn.jit_handles import get_shape
from torch import nn

from dla_docs import list_models
from dla_docs.measure import counting, lowering
from dla_docs.measure.core import measure_facts
from dla_docs.measure.recording import record_forward
from dla_docs.measure.views.counts import count, jit_graph
from dla_docs.zoo.factory import create_uninitialised

FAST = ("dla34", "dla46x_c", "dla169", "dla60_res2next")
VARIANTS = [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in list_models()]


def _described(node) -> tuple:
    """What fvcore's walk and handles can read of a node."""
    values = [*node.inputs(), *node.outputs()]
    return (node.kind(), node.scopeName(), len(list(node.inputs())),
            [(get_shape(v), v.toIValue()) for v in values])


def _traced(model: nn.Module, side: int) -> list[tuple]:
    aliases = {module: name for name, module in model.named_modules()}
    with torch.no_grad():
        graph = _get_scoped_trace_graph(model, (torch.zeros(1, 3, side, side),), aliases)
    return [_described(n) for n in graph.nodes() if not n.kind().startswith("prim::")]


def _recorded(model: nn.Module, side: int) -> list[tuple]:
    return [_described(n) for n in jit_graph(record_forward(model.to_empty(device="meta"), side)).nodes()]


@pytest.mark.parametrize("name", VARIANTS)
def test_the_recording_equals_a_jit_trace_node_by_node(name):
    """Every operator, in order: its name, its module scope, and the shape or constant of
    every input and output, as fvcore's own trace (fvcore's scope hooks, torch's tracer)
    records them. The tracer runs on a real 64x64 image."""
    model = create_uninitialised(name).eval()
    traced = _traced(model, 64)
    recorded_nodes = _recorded(model, 64)
    assert len(recorded_nodes) == len(traced)
    for position, (ours, theirs) in enumerate(zip(recorded_nodes, traced)):
        assert ours == theirs, f"node {position}"


class _Branches(nn.Module):
    """An unused branch (the tracer drops it) and an in-place update of a live tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.unused = nn.Conv2d(3, 4, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.pool(self.unused(x))
        out = self.conv(x)
        out += self.conv(x)
        return torch.flatten(nn.functional.adaptive_avg_pool2d(nn.functional.relu(out, inplace=True), 1), 1)


def test_dead_code_is_dropped_as_the_tracer_drops_it():
    model = _Branches().eval()
    traced, ours = _traced(model, 8), _recorded(model, 8)
    assert [n[0] for n in ours] == [n[0] for n in traced] == [
        "aten::_convolution", "aten::_convolution", "aten::add_", "aten::relu_",
        "aten::adaptive_avg_pool2d", "aten::flatten"]
    assert ours == traced


class _Sigmoid(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)


def test_a_function_without_a_rule_is_recorded_as_a_plain_call_and_named():
    recording = record_forward(nn.Sequential(nn.Conv2d(3, 3, 1), _Sigmoid()).to_empty(device="meta"), 8)
    assert not recording.walkable
    assert recording.unrecorded == ["sigmoid"]
    conv, sigmoid = recording.calls
    assert (sigmoid.function, sigmoid.node, sigmoid.inputs) == ("sigmoid", None, conv.outputs)
    assert recording.modules[-1].path == "1" and recording.modules[-1].outputs == recording.outputs


def test_a_call_a_rule_cannot_lower_is_not_guessed():
    conv = nn.Conv2d(3, 4, 3, padding="same").to_empty(device="meta")
    recording = record_forward(conv, 8)
    assert recording.unrecorded == ["conv2d (string padding)"]
    assert recording.calls[0].node is None and recording.shape(recording.outputs[0]) == (1, 4, 8, 8)


def test_fvcore_counts_the_recording_as_it_counts_the_trace():
    """fvcore's whole analysis (handles, ancestors, skipped operators) on both graphs."""
    model = create_uninitialised("dla60_res2net").eval()
    with torch.no_grad():
        analysis = JitModelAnalysis(model, (torch.zeros(1, 3, 64, 64),)).set_op_handle(**counting.combined_handles())
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        traced = analysis.by_module_and_operator(), analysis.unsupported_ops()
    model.to_empty(device="meta")
    ours = count(model, record_forward(model, 64), 64)
    assert ours.note is None
    assert (ours.by_module, ours.unsupported) == traced
    assert traced[0][""][(counting.MACS, "conv")] > 0


def test_without_a_rule_for_cat_fvcore_traces_the_model_with_the_same_counts(monkeypatch):
    """The fallback: one rule removed, the variant is still measured, counted by fvcore's own
    JIT trace, and says so in one line; everything else is read from the recording as before."""
    normal = measure_facts("dla46_c", 64)
    monkeypatch.delitem(lowering.RULES, torch.cat)
    fallback = measure_facts("dla46_c", 64)
    assert fallback.notes == ("dla46_c: counted by fvcore's own JIT trace (slower, same counts): "
                              "calls without a recording rule: cat",)
    assert fallback.measurement == normal.measurement and fallback.structure == normal.structure
    model = create_uninitialised("dla46_c").eval()
    with torch.no_grad():
        plain = FlopCountAnalysis(model, torch.zeros(1, 3, 64, 64))  # fvcore as anyone calls it
        plain.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        assert fallback.measurement.macs == plain.total()
        assert {m: c.macs for m, c in fallback.measurement.modules.items()} == {m: plain.by_module()[m]
                                                                                for m in fallback.measurement.modules}
