"""The :class:`~dla_docs.measure.geometry.Window` of a module, read from its traced forward.

``torch.fx`` traces the module into a graph of convolutions, poolings, normalisations and
tensor functions; windows are composed along every path from the module's first input to
its output and joined (hull) where paths meet. Further inputs (a block's external shortcut,
a root's other inputs) are not followed: the structure's edges carry them. Nothing here
knows a DLA variant; an operation it cannot place raises instead of guessing.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import fx, nn

from dla_docs.measure.geometry import IDENTITY, Window

# Modules and functions that keep every pixel in place (elementwise, or mixing channels only).
_POINTWISE_MODULES = (nn.BatchNorm2d, nn.ReLU, nn.Identity, nn.Dropout, nn.Flatten)
_SPATIAL_MODULES = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def _pair(value: Any) -> int:
    """The (square) value of a kernel/stride/padding/dilation argument."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(f"non-square window parameter {value}")
        return int(value[0])
    return int(value)


def module_window(module: nn.Module) -> Window:
    """The window of one convolution or pooling module."""
    dilation = getattr(module, "dilation", 1)
    return Window.of_kernel(_pair(module.kernel_size), _pair(module.stride), _pair(module.padding),
                            _pair(dilation))


class _FirstInput(nn.Module):
    """Calls the wrapped module with separate positional inputs so that fx can trace ``*args``."""

    def __init__(self, module: nn.Module, inputs: int) -> None:
        super().__init__()
        self.inner = module
        self.inputs = inputs

    def forward(self, *args: torch.Tensor) -> torch.Tensor:  # pragma: no cover - traced only
        return self.inner(*args)


def _trace(module: nn.Module, inputs: int) -> fx.GraphModule:
    names = [f"x{i}" for i in range(inputs)]
    source = f"def forward(self, {', '.join(names)}):\n    return self.inner({', '.join(names)})\n"
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # a fixed-arity forward: fx cannot trace *args
    wrapper = type("_Wrapped", (_FirstInput,), {"forward": namespace["forward"]})(module, inputs)
    return fx.symbolic_trace(wrapper)


def _signature(module: nn.Module, inputs: int) -> tuple:
    """Everything a traced window can depend on: module types, window parameters, plain attributes.

    Equal signatures trace to the same graph up to channel counts, so their windows agree;
    tracing is the slow part (tens of milliseconds), and a model repeats a few block shapes.
    """
    parts: list[Any] = [inputs]
    for name, sub in module.named_modules():
        if isinstance(sub, _SPATIAL_MODULES):
            parts.append((name, type(sub), module_window(sub)))
        elif isinstance(sub, _POINTWISE_MODULES):
            parts.append((name, type(sub)))
        else:  # its forward may branch on any plain attribute
            parts.append((name, type(sub), tuple(sorted(
                (k, v) for k, v in vars(sub).items()
                if not k.startswith("_") and isinstance(v, (bool, int, float, str, tuple))))))
    return tuple(parts)


_KNOWN: dict[tuple, Window] = {}


def traced_window(module: nn.Module, inputs: int = 1) -> Window:
    """Window from the first of ``inputs`` positional inputs of ``module`` to its output."""
    key = _signature(module, inputs)
    if key not in _KNOWN:
        _KNOWN[key] = _traced_window(module, inputs)
    return _KNOWN[key]


def _traced_window(module: nn.Module, inputs: int) -> Window:
    graph = _trace(module, inputs)
    modules = dict(graph.named_modules())
    windows: dict[fx.Node, Window | None] = {}
    first = True
    for node in graph.graph.nodes:
        sources = [windows[a] for a in node.all_input_nodes if windows.get(a) is not None]
        if node.op == "placeholder":
            windows[node] = IDENTITY if first else None
            first = False
            continue
        if node.op == "output":
            if not sources:
                raise ValueError(f"the output of {type(module).__name__} does not depend on its input")
            return _join(sources)
        if not sources:
            windows[node] = None
            continue
        joined = _join(sources)
        if node.op == "call_module":
            target = modules[node.target]
            if isinstance(target, _SPATIAL_MODULES):
                joined = joined.then(module_window(target))
            elif not isinstance(target, _POINTWISE_MODULES):
                raise ValueError(f"no window for module {type(target).__name__} at {node.target}")
        elif node.op in ("call_function", "call_method"):
            name = getattr(node.target, "__name__", str(node.target))
            if name not in _POINTWISE_FUNCTIONS:
                raise ValueError(f"no window for function {name!r} in {type(module).__name__}")
        windows[node] = joined
    raise ValueError("traced graph has no output")


# Elementwise arithmetic and channel bookkeeping: the window of their inputs, joined.
_POINTWISE_FUNCTIONS = frozenset({
    "add", "iadd", "__iadd__", "add_", "mul", "imul", "relu", "relu_", "cat", "split",
    "getitem", "chunk", "flatten", "contiguous",
})


def _join(windows: list[Window]) -> Window:
    joined = windows[0]
    for window in windows[1:]:
        joined = joined.hull(window)
    return joined
