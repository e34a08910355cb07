"""fvcore's traced graph at the measured image size, from a trace at a small one.

fvcore counts from the shapes its JIT trace records, and a trace runs the model for real: at
224x224 the convolutions of the twelve variants take seconds of arithmetic whose values
nothing reads. A DLA's graph does not depend on the image size (no layer branches on it), so
the pass is traced at :data:`TRACE_SIDE` pixels, and every value of the graph is then given
its shape at the measured size by running each node's operator again on meta tensors
(shapes only, nothing computed). fvcore's handles then read exactly the shapes a trace at
that size records; ``tests/test_measure.py`` compares the counts with a real trace by fvcore
itself, module by module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from fvcore.nn import jit_analysis
from torch import nn

from dla_docs.measure.meta_shapes import MetaShapes

TRACE_SIDE = 32  # the smallest input a DLA takes: its deepest level has stride 32


def resize_graph(graph: torch._C.Graph, model: nn.Module, image_size: int) -> None:
    """Give every tensor value of ``graph`` (traced from ``model`` on one image) its type at ``image_size``."""
    state = list(torch.jit._unique_state_dict(model, keep_vars=True).values())
    inputs = list(graph.inputs())
    if len(inputs) != 1 + len(state):
        raise ValueError(f"the trace has {len(inputs)} inputs, not the image and {len(state)} state tensors")
    image = torch.empty(1, 3, image_size, image_size, device="meta")
    values: dict[int, Any] = {}
    for value, tensor in zip(inputs, [image, *(torch.empty_like(t, device="meta") for t in state)]):
        _set(values, value, tensor)
    with MetaShapes():
        for node in graph.nodes():
            _resize_node(node, values)


def _resize_node(node: torch._C.Node, values: dict[int, Any]) -> None:
    """Run ``node`` on the meta values of its inputs and type its outputs by the results."""
    kind = node.kind()
    outputs = list(node.outputs())
    if kind == "prim::Constant":
        _set(values, outputs[0], outputs[0].toIValue())
        return
    args = [values[v.unique()] for v in node.inputs()]
    if kind == "prim::ListConstruct":
        results: Any = [list(args)]
    elif kind == "prim::ListUnpack":
        results = list(args[0])
    elif kind.startswith("aten::"):
        result = _call(node, args)
        results = [result] if len(outputs) == 1 else list(result)
    else:
        raise ValueError(f"cannot resize the traced graph: no rule for {kind}")
    if len(results) != len(outputs):
        raise ValueError(f"{kind} gave {len(results)} results for {len(outputs)} outputs")
    for value, result in zip(outputs, results):
        _set(values, value, result)


def _call(node: torch._C.Node, args: list[Any]) -> Any:
    """The node's own overload of its operator, on ``args`` (the graph passes keyword-only ones by position)."""
    schema = torch._C.parse_schema(node.schema())
    operator = getattr(getattr(torch.ops.aten, schema.name.split("::")[1]), schema.overload_name or "default")
    positional = [a for a, spec in zip(args, schema.arguments) if not spec.kwarg_only]
    keywords = {spec.name: a for a, spec in zip(args, schema.arguments) if spec.kwarg_only}
    return operator(*positional, **keywords)


def _set(values: dict[int, Any], value: torch._C.Value, result: Any) -> None:
    values[value.unique()] = result
    if isinstance(result, torch.Tensor):
        value.setType(torch._C.TensorType.create_from_tensor(result))


def _scoped_trace(module: nn.Module, inputs: Any, aliases: dict) -> torch._C.Graph:
    """fvcore's scoped trace, with the scopes pushed by the tracer itself.

    fvcore names each operator's scope with a pre- and a post-hook on every module; torch's
    tracer pushes the same scopes without a Python call when it is given the module names
    (``torch.jit._trace._trace_module_map``, what ``torch.jit.trace_module`` uses), which
    saves about a tenth of the trace. The root module's empty name pushes no scope either way;
    ``tests/test_measure.py`` compares every module's count with fvcore's own trace.
    """
    saved = torch.jit._trace._trace_module_map
    torch.jit._trace._trace_module_map = {mod: aliases[mod] for _, mod in module.named_modules()}
    try:
        graph, _ = torch.jit._trace._get_trace_graph(module, inputs)
    finally:
        torch.jit._trace._trace_module_map = saved
    return graph


@contextlib.contextmanager
def traced_at(image_size: int) -> Iterator[None]:
    """Within: fvcore's traces (of a model on one image) are resized to ``image_size``."""
    trace = jit_analysis._get_scoped_trace_graph

    def resized(module: nn.Module, inputs: Any, aliases: Any) -> torch._C.Graph:
        graph = _scoped_trace(module, inputs, aliases)
        resize_graph(graph, module, image_size)
        return graph

    jit_analysis._get_scoped_trace_graph = resized
    try:
        yield
    finally:
        jit_analysis._get_scoped_trace_graph = trace
