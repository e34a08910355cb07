"""The private fvcore names the measurement uses, each beside the public path it stands in for.

- ``flop_count._DEFAULT_SUPPORTED_OPS`` and ``activation_count._DEFAULT_SUPPORTED_OPS``: the
  handle tables that ``FlopCountAnalysis`` and ``ActivationCountAnalysis`` install, read so
  that one walk answers for both. Public path: the same tables built from the public handles
  of ``fvcore.nn.jit_handles``, as fvcore 0.1.5 builds them (used where the names are gone).
- ``jit_analysis._get_scoped_trace_graph``: the function ``JitModelAnalysis`` calls to trace
  the model. :func:`walk` stands the recorded graph in for its result while fvcore analyses.
  Public path: fvcore's own JIT trace of a real input, which the counts view runs when
  :func:`walk` answers ``None`` (:mod:`dla_docs.measure.views.counts`).
- What fvcore's walk and handles read of a JIT graph (``torch._C.Graph``, ``Node``, ``Value``):
  :class:`Graph`, :class:`Node` and :class:`Value` offer exactly those methods.

The versions these were checked against: :data:`dla_docs.measure.adapters.CHECKED_VERSIONS`;
on another fvcore (:func:`dla_docs.measure.adapters.checked`) none is used: the public tables,
and :func:`walk` answers ``False`` (fvcore's own trace), as it does when fvcore's walk no
longer accepts the stand-in (a changed signature or graph interface).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import torch
from fvcore.nn import jit_analysis, jit_handles
from fvcore.nn.jit_analysis import JitModelAnalysis

from dla_docs.measure.adapters import checked

# The modules (``fvcore.nn.flop_count`` as an attribute of ``fvcore.nn`` is the function).
_FLOP_COUNT = importlib.import_module("fvcore.nn.flop_count")
_ACTIVATION_COUNT = importlib.import_module("fvcore.nn.activation_count")

Handle = Callable[[list[Any], list[Any]], Any]

# fvcore 0.1.5's default tables, from its public handles: the way out if the private names go.
_PUBLIC_FLOP_HANDLES: dict[str, Handle] = {
    "aten::addmm": jit_handles.addmm_flop_jit,
    "aten::bmm": jit_handles.bmm_flop_jit,
    "aten::_convolution": jit_handles.conv_flop_jit,
    "aten::einsum": jit_handles.einsum_flop_jit,
    "aten::matmul": jit_handles.matmul_flop_jit,
    "aten::mm": jit_handles.matmul_flop_jit,
    "aten::linear": jit_handles.linear_flop_jit,
    "aten::batch_norm": jit_handles.batchnorm_flop_jit,
    "aten::group_norm": jit_handles.norm_flop_counter(2),
    "aten::layer_norm": jit_handles.norm_flop_counter(2),
    "aten::instance_norm": jit_handles.norm_flop_counter(1),
    "aten::upsample_nearest2d": jit_handles.elementwise_flop_counter(0, 1),
    "aten::upsample_bilinear2d": jit_handles.elementwise_flop_counter(0, 4),
    "aten::adaptive_avg_pool2d": jit_handles.elementwise_flop_counter(1, 0),
    "aten::grid_sampler": jit_handles.elementwise_flop_counter(0, 4),
}
_PUBLIC_ACTIVATION_HANDLES: dict[str, Handle] = {
    "aten::_convolution": jit_handles.generic_activation_jit("conv"),
    **{kind: jit_handles.generic_activation_jit()
       for kind in ("aten::addmm", "aten::bmm", "aten::einsum", "aten::matmul", "aten::linear")},
}


def default_flop_handles() -> dict[str, Handle]:
    """The handles ``FlopCountAnalysis`` counts with (one multiply-add is one "flop")."""
    if not checked("fvcore"):
        return dict(_PUBLIC_FLOP_HANDLES)
    return dict(getattr(_FLOP_COUNT, "_DEFAULT_SUPPORTED_OPS", _PUBLIC_FLOP_HANDLES))


def default_activation_handles() -> dict[str, Handle]:
    """The handles ``ActivationCountAnalysis`` counts with."""
    if not checked("fvcore"):
        return dict(_PUBLIC_ACTIVATION_HANDLES)
    return dict(getattr(_ACTIVATION_COUNT, "_DEFAULT_SUPPORTED_OPS", _PUBLIC_ACTIVATION_HANDLES))


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


def value(argument: Any) -> Value:
    """The JIT value the tracer makes of one argument or result."""
    if isinstance(argument, torch.Tensor):
        return Value(list(argument.shape))
    if isinstance(argument, (list, tuple)):  # a prim::ListConstruct: not a constant to the JIT
        return Value(None)
    return Value(None, argument)


class Node:
    """One operator call, with the JIT node methods fvcore reads."""

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


def walk(analysis: JitModelAnalysis, graph: Graph) -> bool:
    """Run fvcore's own analysis (its walk, handles, ancestors and unsupported operators) over
    ``graph`` instead of a JIT trace of the model; the statistics stay in ``analysis``.

    ``False`` (trace for real) on an fvcore other than the checked one, when it has no trace
    function to stand ``graph`` in for, or when its walk no longer takes the stand-in: a
    changed call of the trace function or of the graph's interface (``TypeError`` /
    ``AttributeError`` inside the walk); the analysis is then left unused."""
    trace = getattr(jit_analysis, "_get_scoped_trace_graph", None)
    if trace is None or not checked("fvcore"):
        return False

    def recorded(*args: Any, **kwargs: Any) -> Graph:
        return graph

    jit_analysis._get_scoped_trace_graph = recorded
    try:
        analysis.by_module_and_operator()  # analyses once; later views reuse the statistics
    except (TypeError, AttributeError):
        return False
    finally:
        jit_analysis._get_scoped_trace_graph = trace
    return True
