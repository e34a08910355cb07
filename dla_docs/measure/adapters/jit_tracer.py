"""The node torch's JIT tracer records for each Python call of a DLA forward pass: its layout.

fvcore's handles read the tracer's nodes, and the layout of those nodes is the tracer's own,
documented nowhere: ``torch.conv2d`` is recorded as ``aten::_convolution`` with thirteen
arguments (the cuDNN flags among them), ``F.batch_norm`` as ``aten::batch_norm`` with nine.
Public path: fvcore's own JIT trace of the model on a real image, which
:mod:`dla_docs.measure.views.counts` runs when a call has no node. Chosen by version: on a
torch other than the checked one (:func:`dla_docs.measure.adapters.checked`) :func:`lower`
refuses every call, so every variant is counted by fvcore's own trace.
``tests/test_recording.py`` compares every lowered node with a real JIT trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from dla_docs.measure.adapters import checked

Lowering = Callable[[dict[str, Any]], tuple[str, list[Any]]]


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


LOWERINGS: dict[str, Lowering] = {
    "conv2d": _conv2d,
    "batch_norm": _batch_norm,
    "relu": _relu,
    "add_": _binary("aten::add_"),
    "add": _binary("aten::add"),
    "cat": lambda a: ("aten::cat", [list(a["tensors"]), a["dim"]]),
    "split": _split,
    "max_pool2d": _max_pool2d,
    "avg_pool2d": _avg_pool2d,
    "adaptive_avg_pool2d": lambda a: ("aten::adaptive_avg_pool2d", [a["input"], _pair(a["output_size"])]),
    "flatten": lambda a: ("aten::flatten", [a["input"], a["start_dim"], a["end_dim"]]),
}


def lower(function: str, arguments: dict[str, Any]) -> tuple[str, list[Any]]:
    """The tracer's node kind and argument list for a call of ``function`` (bound ``arguments``).

    ``TypeError`` where the layout is not known: an unlisted function, a call the tracer lowers
    otherwise (string padding, returned indices), or a torch other than the checked one."""
    if not checked("torch"):
        raise TypeError("tracer layout not checked on this torch")
    lowering = LOWERINGS.get(function)
    if lowering is None:
        raise TypeError("no tracer layout")
    return lowering(arguments)
