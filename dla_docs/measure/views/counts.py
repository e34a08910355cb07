"""fvcore's counts of a recorded forward pass: its own walk and our handles, over the recorded nodes.

fvcore counts by walking a JIT trace: for every node it reads the operator's name, the module
that ran it and the shapes and constants of its inputs and outputs, and hands those to its
per-operator handles (:mod:`dla_docs.measure.counting`). The recording already holds the node
the tracer would record for every call, so fvcore's own analysis walks those instead of
tracing the model (a trace runs the model for real and records thousands of nodes: two thirds
of a cold measurement). Calls whose results the model's output does not depend on are left
out, as the tracer removes dead code.

When the recording is not walkable (a call without a recording rule), or fvcore no longer
takes a recorded graph, fvcore traces the model itself on a real image of zeros (slower, the
same counts: they depend on shapes only) and :attr:`Counts.note` says why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch
from fvcore.nn.jit_analysis import JitModelAnalysis
from torch import nn

from dla_docs.measure import counting
from dla_docs.measure.adapters import fvcore_private
from dla_docs.measure.recording import Call, Recording, TensorRef


@dataclass(frozen=True)
class Counts:
    """fvcore's statistics: per module (``""`` is the model) the Counter of every handle's entries."""

    by_module: dict[str, Counter]
    unsupported: dict[str, int]  # operators without a handle, by call count, in the whole model
    note: str | None = None  # why fvcore traced the model itself, when it did


def live_calls(recording: Recording) -> list[Call]:
    """The calls the model's output depends on (the tracer drops the others)."""
    live = set(recording.outputs)
    kept = []
    for call in reversed(recording.calls):
        if not any(tensor in live for tensor in call.outputs):
            continue
        kept.append(call)
        if not call.node.kind.endswith("_"):  # an in-place call's output is its input, still live before
            live.difference_update(call.outputs)
        live.update(call.inputs)
    return kept[::-1]


def _value(argument: object) -> fvcore_private.Value:
    """The JIT value of one recorded argument or result (a tensor's is its per-image shape)."""
    if isinstance(argument, TensorRef):
        return fvcore_private.Value(list(argument.shape))
    return fvcore_private.value(argument)


def jit_graph(recording: Recording) -> fvcore_private.Graph:
    """The graph fvcore's trace would give: the live calls' nodes, each in its module scope."""
    scopes = ["/".join(module_call.scope) for module_call in recording.modules]
    nodes = []
    for call in live_calls(recording):
        node = call.node
        nodes.append(fvcore_private.Node(node.kind, scopes[call.module] if call.module >= 0 else "",
                                         [_value(a) for a in node.arguments], [_value(node.result)]))
    return fvcore_private.Graph(nodes)


def _analysis(model: nn.Module, image: torch.Tensor) -> JitModelAnalysis:
    analysis = JitModelAnalysis(model, (image,)).set_op_handle(**counting.combined_handles())
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analysis.tracer_warnings("none")


def _counts(analysis: JitModelAnalysis, note: str | None = None) -> Counts:
    return Counts(analysis.by_module_and_operator(), dict(analysis.unsupported_ops()), note)


def count(model: nn.Module, recording: Recording, image_size: int) -> Counts:
    """fvcore's statistics of ``model`` (on the meta device, where it stays) from ``recording``."""
    if recording.walkable:
        analysis = _analysis(model, torch.empty(1, 3, image_size, image_size, device="meta"))
        if fvcore_private.walk(analysis, jit_graph(recording)):
            return _counts(analysis)
        reason = "this fvcore takes no recorded graph"
    else:
        reason = "calls without a recording rule: " + ", ".join(recording.unrecorded)
    return _traced(model, image_size, f"counted by fvcore's own JIT trace (slower, same counts): {reason}")


def _traced(model: nn.Module, image_size: int, note: str) -> Counts:
    """fvcore's own analysis, tracing ``model`` materialised on the CPU (zeros) on an image of zeros."""
    model.to_empty(device="cpu")
    try:
        with torch.no_grad():
            for tensor in model.state_dict().values():
                tensor.zero_()
            return _counts(_analysis(model, torch.zeros(1, 3, image_size, image_size)), note)
    finally:
        model.to_empty(device="meta")
