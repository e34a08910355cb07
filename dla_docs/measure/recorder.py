"""The graph fvcore analyses, recorded from one forward pass on the meta device.

fvcore counts by walking a JIT trace: for every node it reads the operator's name
(``node.kind()``), the module that ran it (``node.scopeName()``) and the shapes and constants
of its inputs and outputs, and hands those to its per-operator handles. A JIT trace runs the
model for real and records thousands of nodes (most of them constants) at a few dozen
microseconds each: for the twelve variants that was two thirds of a cold measurement.

:class:`Recorder` produces the same walk without the tracer. The model runs once on the meta
device (shapes only, :class:`~dla_docs.measure.meta_shapes.MetaShapes`) under a
``TorchFunctionMode`` that sees each call at the level the tracer records it (``torch.conv2d``
is recorded as ``aten::_convolution``, with the tracer's argument list), and a global module
hook keeps the scope stack the tracer would push. fvcore's own analysis
(``JitModelAnalysis._analyze``: handles, ancestors, unsupported operators) then walks the
recorded nodes. Any function without a rule below stops the recording with its name: a
guess could change a count. ``tests/test_recorder.py`` compares the recording node by node
with a real JIT trace, and ``tests/test_measure.py`` the counts with fvcore's own trace.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from fvcore.nn import jit_analysis
from torch import nn
from torch.nn import functional as F
from torch.nn.modules import module as module_hooks
from torch.overrides import TorchFunctionMode

from dla_docs.measure.meta_shapes import MetaShapes


class UnrecordedOperation(RuntimeError):
    """The model called a function the recorder has no rule for."""


class Value:
    """What fvcore's handles read of a JIT value: a complete tensor type, or a constant."""

    __slots__ = ("shape", "constant")

    def __init__(self, shape: list[int] | None, constant: Any = None) -> None:
        self.shape = shape
        self.constant = constant

    def isCompleteTensor(self) -> bool:  # noqa: N802 (the JIT's names)
        return self.shape is not None

    def type(self) -> Value:
        return self

    def sizes(self) -> list[int]:
        return list(self.shape or ())

    def toIValue(self) -> Any:  # noqa: N802
        return self.constant

    def __repr__(self) -> str:
        return f"Value(shape={self.shape})" if self.shape is not None else f"Value(constant={self.constant!r})"


class Node:
    """One recorded operator call, with the JIT node methods fvcore reads."""

    __slots__ = ("_kind", "_scope", "_inputs", "_outputs")

    def __init__(self, kind: str, scope: str, inputs: list[Value], outputs: list[Value]) -> None:
        self._kind, self._scope, self._inputs, self._outputs = kind, scope, inputs, outputs

    def kind(self) -> str:
        return self._kind

    def scopeName(self) -> str:  # noqa: N802
        return self._scope

    def inputs(self) -> list[Value]:
        return self._inputs

    def outputs(self) -> list[Value]:
        return self._outputs


class Graph:
    def __init__(self, nodes: list[Node]) -> None:
        self._nodes = nodes

    def nodes(self) -> list[Node]:
        return self._nodes


def _value(arg: Any) -> Value:
    if isinstance(arg, torch.Tensor):
        return Value(list(arg.shape))
    if isinstance(arg, (list, tuple)):  # a prim::ListConstruct: not a constant to the JIT
        return Value(None)
    return Value(None, arg)


def _tensors(arg: Any) -> list[torch.Tensor]:
    if isinstance(arg, torch.Tensor):
        return [arg]
    if isinstance(arg, (list, tuple)):
        return [t for a in arg for t in _tensors(a)]
    return []


def _pair(v: Any) -> list[int]:
    return [v, v] if isinstance(v, int) else list(v)


def _bind(names: tuple[str, ...], defaults: dict[str, Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    if len(args) > len(names) or set(kwargs) - set(names):
        raise TypeError("unexpected arguments")
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update(kwargs)
    if set(names) - set(bound):
        raise TypeError("missing arguments")
    return bound


# Each rule maps a Python call to the tracer's node: (kind, the JIT operator's argument list).
Rule = Callable[[tuple, dict], tuple[str, list[Any]]]


def _conv2d(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
              {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}, args, kwargs)
    if isinstance(a["padding"], str):
        raise TypeError("string padding")
    flags = torch.backends.cudnn
    return "aten::_convolution", [
        a["input"], a["weight"], a["bias"], _pair(a["stride"]), _pair(a["padding"]), _pair(a["dilation"]),
        False, [0, 0], a["groups"], flags.benchmark, flags.deterministic, flags.enabled, flags.allow_tf32]


def _batch_norm(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"),
              {"weight": None, "bias": None, "training": False, "momentum": 0.1, "eps": 1e-5}, args, kwargs)
    return "aten::batch_norm", [a["input"], a["weight"], a["bias"], a["running_mean"], a["running_var"],
                                a["training"], a["momentum"], a["eps"], torch.backends.cudnn.enabled]


def _relu(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("input", "inplace"), {"inplace": False}, args, kwargs)
    return ("aten::relu_" if a["inplace"] else "aten::relu"), [a["input"]]


def _binary(kind: str) -> Rule:
    def rule(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
        a = _bind(("self", "other"), {}, args, kwargs)
        return kind, [a["self"], a["other"], 1]
    return rule


def _cat(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("tensors", "dim"), {"dim": 0}, args, kwargs)
    return "aten::cat", [list(a["tensors"]), a["dim"]]


def _split(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("tensor", "split_size_or_sections", "dim"), {"dim": 0}, args, kwargs)
    size = a["split_size_or_sections"]
    return ("aten::split" if isinstance(size, int) else "aten::split_with_sizes"), [a["tensor"], size, a["dim"]]


def _max_pool2d(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
              {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False},
              args, kwargs)
    if a["return_indices"]:
        raise TypeError("return_indices")
    stride = [] if a["stride"] is None else _pair(a["stride"])
    return "aten::max_pool2d", [a["input"], _pair(a["kernel_size"]), stride, _pair(a["padding"]),
                                _pair(a["dilation"]), a["ceil_mode"]]


def _avg_pool2d(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
              {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
               "divisor_override": None}, args, kwargs)
    stride = [] if a["stride"] is None else _pair(a["stride"])
    return "aten::avg_pool2d", [a["input"], _pair(a["kernel_size"]), stride, _pair(a["padding"]),
                                a["ceil_mode"], a["count_include_pad"], a["divisor_override"]]


def _adaptive_avg_pool2d(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("input", "output_size"), {}, args, kwargs)
    return "aten::adaptive_avg_pool2d", [a["input"], _pair(a["output_size"])]


def _flatten(args: tuple, kwargs: dict) -> tuple[str, list[Any]]:
    a = _bind(("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1}, args, kwargs)
    return "aten::flatten", [a["input"], a["start_dim"], a["end_dim"]]


RULES: dict[Any, Rule] = {
    torch.conv2d: _conv2d,
    F.batch_norm: _batch_norm,
    F.relu: _relu,
    torch.Tensor.add_: _binary("aten::add_"),  # also ``x += y``
    torch.Tensor.add: _binary("aten::add"),  # also ``x + y``
    torch.cat: _cat,
    torch.split: _split,
    torch.Tensor.split: _split,
    F.max_pool2d: _max_pool2d,
    F.avg_pool2d: _avg_pool2d,
    F.adaptive_avg_pool2d: _adaptive_avg_pool2d,
    torch.flatten: _flatten,
    torch.Tensor.flatten: _flatten,
}

# Calls that read a tensor's metadata: the tracer records nothing fvcore counts for them.
_QUERIES = {torch.Tensor.dim, torch.Tensor.size, torch.Tensor.shape.__get__, torch.Tensor.dtype.__get__,
            torch.Tensor.device.__get__, torch.Tensor.requires_grad.__get__, torch.Tensor.is_meta.__get__}


class Recorder(TorchFunctionMode):
    """Within: every call with a rule is run (on meta tensors) and recorded as a tracer's node."""

    def __init__(self, aliases: dict[nn.Module, str]) -> None:
        super().__init__()
        self.aliases = aliases
        self.scopes: list[str | None] = []
        # Each node with the tensors it read and wrote (held, so that no id is reused while recording).
        self.calls: list[tuple[Node, list[torch.Tensor], list[torch.Tensor]]] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in _QUERIES:
            return func(*args, **kwargs)
        rule = RULES.get(func)
        if rule is None:
            raise UnrecordedOperation(f"cannot record {getattr(func, '__qualname__', func)!s} for fvcore: no rule")
        try:
            kind, jit_args = rule(args, kwargs)
        except TypeError as exc:
            raise UnrecordedOperation(f"cannot record this call of {func.__qualname__} for fvcore: {exc}") from None
        out = func(*args, **kwargs)
        scope = "/".join(name for name in self.scopes if name is not None)
        self.calls.append((Node(kind, scope, [_value(a) for a in jit_args], [_value(out)]),
                           _tensors(jit_args), _tensors(out)))
        return out

    def live_nodes(self, outputs: Any) -> list[Node]:
        """The nodes the tracer keeps: those ``outputs`` depend on (it removes dead code)."""
        live = {id(t) for t in _tensors(outputs)}
        kept = []
        for node, uses, defs in reversed(self.calls):
            if not any(id(t) in live for t in defs):
                continue
            kept.append(node)
            if not node.kind().endswith("_"):  # an in-place operator's output is its input, still live before
                live.difference_update(id(t) for t in defs)
            live.update(id(t) for t in uses)
        return kept[::-1]

    @contextlib.contextmanager
    def scoped(self) -> Iterator[None]:
        """Keep the scope stack fvcore's trace pushes: the alias of every module being run (the root's is "")."""
        def enter(module: nn.Module, _inputs: Any) -> None:
            self.scopes.append(self.aliases.get(module))  # fvcore hooks named modules only

        def leave(module: nn.Module, _inputs: Any, _output: Any) -> None:
            self.scopes.pop()

        pre = module_hooks.register_module_forward_pre_hook(enter)
        post = module_hooks.register_module_forward_hook(leave, always_call=True)
        try:
            yield
        finally:
            pre.remove()
            post.remove()


def record(module: nn.Module, inputs: tuple, aliases: dict[nn.Module, str]) -> Graph:
    """fvcore's scoped trace graph of ``module(*inputs)``, recorded on the meta device."""
    recorder = Recorder(aliases)
    with torch.no_grad(), recorder.scoped(), MetaShapes(), recorder:
        outputs = module(*inputs)
    return Graph(recorder.live_nodes(outputs))


@contextlib.contextmanager
def recorded() -> Iterator[None]:
    """Within: fvcore's analyses walk a recorded graph instead of tracing the model."""
    trace = jit_analysis._get_scoped_trace_graph
    jit_analysis._get_scoped_trace_graph = record
    try:
        yield
    finally:
        jit_analysis._get_scoped_trace_graph = trace
