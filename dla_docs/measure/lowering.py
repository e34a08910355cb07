"""How torch's JIT tracer records the Python calls of a DLA forward pass.

A rule binds a call's arguments by name, as the Python function's signature does, and lowers
them to the node the tracer would record: its kind and its argument list (``torch.conv2d``
is recorded as ``aten::_convolution`` with thirteen arguments). The views of the recording
read the bound arguments (a convolution's stride, a pooling's kernel); fvcore's handles read
the node. A call that a rule cannot bind or lower raises ``TypeError``, and a function without
a rule has none: the recording keeps such a call without a node and fvcore traces the model
itself (:mod:`dla_docs.measure.views.counts`). ``tests/test_recording.py`` compares every
lowered node with a real JIT trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

Lowering = Callable[[dict[str, Any]], tuple[str, list[Any]]]


@dataclass(frozen=True)
class Rule:
    """One function: its name (as the views know it), its parameters and how the tracer lowers a call."""

    name: str
    parameters: tuple[str, ...]
    defaults: dict[str, Any]
    lower: Lowering

    def bind(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        if len(args) > len(self.parameters) or set(kwargs) - set(self.parameters):
            raise TypeError("unexpected arguments")
        bound = dict(self.defaults)
        bound.update(zip(self.parameters, args))
        bound.update(kwargs)
        if len(bound) != len(self.parameters):
            raise TypeError("missing arguments")
        return bound


def _pair(value: Any) -> list[int]:
    return [value, value] if isinstance(value, int) else list(value)


def _conv2d(a: dict[str, Any]) -> tuple[str, list[Any]]:
    if isinstance(a["padding"], str):
        raise TypeError("string padding")
    flags = torch.backends.cudnn
    return "aten::_convolution", [
        a["input"], a["weight"], a["bias"], _pair(a["stride"]), _pair(a["padding"]), _pair(a["dilation"]),
        False, [0, 0], a["groups"], flags.benchmark, flags.deterministic, flags.enabled, flags.allow_tf32]


def _batch_norm(a: dict[str, Any]) -> tuple[str, list[Any]]:
    return "aten::batch_norm", [a["input"], a["weight"], a["bias"], a["running_mean"], a["running_var"],
                                a["training"], a["momentum"], a["eps"], torch.backends.cudnn.enabled]


def _relu(a: dict[str, Any]) -> tuple[str, list[Any]]:
    return ("aten::relu_" if a["inplace"] else "aten::relu"), [a["input"]]


def _binary(kind: str) -> Lowering:
    return lambda a: (kind, [a["self"], a["other"], 1])


def _split(a: dict[str, Any]) -> tuple[str, list[Any]]:
    size = a["split_size_or_sections"]
    return ("aten::split" if isinstance(size, int) else "aten::split_with_sizes"), [a["tensor"], size, a["dim"]]


def _stride(a: dict[str, Any]) -> list[int]:
    return [] if a["stride"] is None else _pair(a["stride"])


def _max_pool2d(a: dict[str, Any]) -> tuple[str, list[Any]]:
    if a["return_indices"]:
        raise TypeError("return_indices")
    return "aten::max_pool2d", [a["input"], _pair(a["kernel_size"]), _stride(a), _pair(a["padding"]),
                                _pair(a["dilation"]), a["ceil_mode"]]


def _avg_pool2d(a: dict[str, Any]) -> tuple[str, list[Any]]:
    return "aten::avg_pool2d", [a["input"], _pair(a["kernel_size"]), _stride(a), _pair(a["padding"]),
                                a["ceil_mode"], a["count_include_pad"], a["divisor_override"]]


_CONV = Rule("conv2d", ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
             {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}, _conv2d)
_SPLIT = Rule("split", ("tensor", "split_size_or_sections", "dim"), {"dim": 0}, _split)
_FLATTEN = Rule("flatten", ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1},
                lambda a: ("aten::flatten", [a["input"], a["start_dim"], a["end_dim"]]))

RULES: dict[Any, Rule] = {
    torch.conv2d: _CONV,
    F.batch_norm: Rule("batch_norm", ("input", "running_mean", "running_var", "weight", "bias", "training",
                                      "momentum", "eps"),
                       {"weight": None, "bias": None, "training": False, "momentum": 0.1, "eps": 1e-5}, _batch_norm),
    F.relu: Rule("relu", ("input", "inplace"), {"inplace": False}, _relu),
    torch.Tensor.add_: Rule("add_", ("self", "other"), {}, _binary("aten::add_")),  # also ``x += y``
    torch.Tensor.add: Rule("add", ("self", "other"), {}, _binary("aten::add")),  # also ``x + y``
    torch.cat: Rule("cat", ("tensors", "dim"), {"dim": 0}, lambda a: ("aten::cat", [list(a["tensors"]), a["dim"]])),
    torch.split: _SPLIT,
    torch.Tensor.split: _SPLIT,
    F.max_pool2d: Rule("max_pool2d", ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                      "return_indices"),
                       {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False},
                       _max_pool2d),
    F.avg_pool2d: Rule("avg_pool2d", ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                      "divisor_override"),
                       {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                        "divisor_override": None}, _avg_pool2d),
    F.adaptive_avg_pool2d: Rule("adaptive_avg_pool2d", ("input", "output_size"), {},
                                lambda a: ("aten::adaptive_avg_pool2d", [a["input"], _pair(a["output_size"])])),
    torch.flatten: _FLATTEN,
    torch.Tensor.flatten: _FLATTEN,
}

# Calls that read a tensor's metadata: the tracer records nothing fvcore counts for them.
QUERIES = frozenset({torch.Tensor.dim, torch.Tensor.size, torch.Tensor.shape.__get__, torch.Tensor.dtype.__get__,
                     torch.Tensor.device.__get__, torch.Tensor.requires_grad.__get__, torch.Tensor.is_meta.__get__})
