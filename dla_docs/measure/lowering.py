"""The Python functions a DLA forward pass calls, each with its signature, to record its calls.

A rule binds a call's arguments by name, as the Python function's signature does, and lowers
them to the node torch's JIT tracer would record (its kind and argument list: that layout is
the tracer's own, kept in :mod:`dla_docs.measure.adapters.jit_tracer`). The views of the
recording read the bound arguments (a convolution's stride, a pooling's kernel); fvcore's
handles read the node. A call that a rule cannot bind or lower raises ``TypeError``, and a
function without a rule has none: the recording keeps such a call without a node and fvcore
traces the model itself (:mod:`dla_docs.measure.views.counts`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from dla_docs.measure.adapters import jit_tracer


@dataclass(frozen=True)
class Rule:
    """One function: its name (as the views know it) and its parameters, with their defaults."""

    name: str
    parameters: tuple[str, ...]
    defaults: dict[str, Any]

    def lower(self, arguments: dict[str, Any]) -> tuple[str, list[Any]]:
        """The tracer's node kind and arguments for a call bound to ``arguments``."""
        return jit_tracer.lower(self.name, arguments)

    def bind(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        if len(args) > len(self.parameters) or set(kwargs) - set(self.parameters):
            raise TypeError("unexpected arguments")
        bound = dict(self.defaults)
        bound.update(zip(self.parameters, args))
        bound.update(kwargs)
        if len(bound) != len(self.parameters):
            raise TypeError("missing arguments")
        return bound


_CONV = Rule("conv2d", ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
             {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1})
_SPLIT = Rule("split", ("tensor", "split_size_or_sections", "dim"), {"dim": 0})
_FLATTEN = Rule("flatten", ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})

RULES: dict[Any, Rule] = {
    torch.conv2d: _CONV,
    F.batch_norm: Rule("batch_norm", ("input", "running_mean", "running_var", "weight", "bias", "training",
                                      "momentum", "eps"),
                       {"weight": None, "bias": None, "training": False, "momentum": 0.1, "eps": 1e-5}),
    F.relu: Rule("relu", ("input", "inplace"), {"inplace": False}),
    torch.Tensor.add_: Rule("add_", ("self", "other"), {}),  # also ``x += y``
    torch.Tensor.add: Rule("add", ("self", "other"), {}),  # also ``x + y``
    torch.cat: Rule("cat", ("tensors", "dim"), {"dim": 0}),
    torch.split: _SPLIT,
    torch.Tensor.split: _SPLIT,
    F.max_pool2d: Rule("max_pool2d", ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                      "return_indices"),
                       {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False}),
    F.avg_pool2d: Rule("avg_pool2d", ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                      "divisor_override"),
                       {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                        "divisor_override": None}),
    F.adaptive_avg_pool2d: Rule("adaptive_avg_pool2d", ("input", "output_size"), {}),
    torch.flatten: _FLATTEN,
    torch.Tensor.flatten: _FLATTEN,
}

# Calls that read a tensor's metadata: the tracer records nothing fvcore counts for them.
QUERIES = frozenset({torch.Tensor.dim, torch.Tensor.size, torch.Tensor.shape.__get__, torch.Tensor.dtype.__get__,
                     torch.Tensor.device.__get__, torch.Tensor.requires_grad.__get__, torch.Tensor.is_meta.__get__})
