"""Output shapes of the operators a DLA runs, on the meta device, without torch's Python meta kernels.

On the meta device a tensor has a shape and no storage, so a model "runs" without computing
anything; but many of torch's meta kernels are written in Python (convolution, BatchNorm's
decomposition into primitives, pooling) and cost far more than the rest of such a pass. The
rules below give the same outputs for the operators of a DLA's forward and backward passes;
any other operator, or any call a rule does not recognise, goes to torch's own kernel.
A rule reads its operator's arguments by position: each names the arguments it reads, and is
used only where the installed operator's schema has them there (else torch's kernel runs):
:func:`rules_that_hold` picks them from :data:`RULES_BY_POSITION` into :data:`SHAPE_RULES`
(and :data:`KEYWORD_RULES`), the rules in use. Off the checked torch both are empty, since no
schema is read; emptying them forces that fallback anywhere (the tests do, with
``monkeypatch.setattr(meta_shapes, "SHAPE_RULES", {})``), as ``torch_private.FLOP_FORMULAS``
set to ``None`` forces FlopCounterMode's public path.
:class:`MetaShapes` applies them to everything run inside it; the peak-memory tracer
(:mod:`dla_docs.measure.memory`) and the forward recording (:mod:`dla_docs.measure.recording`) use them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from dla_docs.measure.adapters.torch_private import DispatchMode, aten_operator, argument_names
from dla_docs.measure.geometry import pair

_aten = torch.ops.aten


def _new(like: torch.Tensor, shape: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A new tensor of ``shape`` on ``like``'s device (``like.new_empty`` runs a Python reference)."""
    return torch.empty(shape, dtype=like.dtype if dtype is None else dtype, device=like.device)


# Shape rules for the hottest operators: the meta kernels of these run in Python and cost
# far more than the whole rest of the trace. Each returns fresh tensors of the real shapes.
def _conv(args: tuple) -> torch.Tensor:
    x, w, _bias, stride, padding, dilation, transposed = args[:7]
    if transposed:
        raise NotImplementedError("transposed convolution")
    side = [(x.shape[2 + i] + 2 * padding[i] - dilation[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1
            for i in range(x.dim() - 2)]
    return _new(x, (x.shape[0], w.shape[0], *side))


def _conv_backward(args: tuple) -> tuple:
    x, w, mask = args[1], args[2], args[10]
    return (_new(x, x.shape) if mask[0] else None, _new(w, w.shape) if mask[1] else None,
            _new(w, (w.shape[0],)) if mask[2] else None)


def _batch_norm(args: tuple) -> tuple:
    x = args[0]
    return _new(x, x.shape), _new(x, (x.shape[1],)), _new(x, (x.shape[1],))


def _batch_norm_backward(args: tuple) -> tuple:
    x, w, mask = args[1], args[2], args[9]
    return (_new(x, x.shape) if mask[0] else None, _new(w, w.shape) if mask[1] else None,
            _new(w, w.shape) if mask[2] else None)


def _in_place(args: tuple) -> torch.Tensor | None:
    """``x.op_(y)`` writes into ``x`` (same shape when ``y`` is no larger): no new storage."""
    x, other = args[0], args[1] if len(args) > 1 else None
    if isinstance(other, torch.Tensor) and other.shape != x.shape:
        return None
    return x


def _elementwise(args: tuple) -> torch.Tensor | None:
    """``op(x, y)`` on equal shapes: one new tensor of that shape (else: the meta kernel)."""
    x, other = args[0], args[1]
    if isinstance(other, torch.Tensor) and other.shape != x.shape:
        return None
    return _new(x, x.shape)


def _cat(args: tuple) -> torch.Tensor | None:
    """``torch.cat(tensors, dim)`` of equal shapes but along ``dim``: one new tensor."""
    tensors, dim = args[0], args[1] if len(args) > 1 else 0
    first = tensors[0]
    dim = dim % first.dim()
    if any(t.dim() != first.dim() or t.shape[:dim] != first.shape[:dim] or t.shape[dim + 1:] != first.shape[dim + 1:]
           for t in tensors):
        return None
    shape = list(first.shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    return _new(first, shape)


def _pooled(x: torch.Tensor, kernel: Any, stride: Any, padding: Any = 0, dilation: Any = 1) -> list[int]:
    k, s, p, d = pair(kernel), pair(stride) if stride else pair(kernel), pair(padding), pair(dilation)
    return [*x.shape[:2], *((x.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))]


def _max_pool(args: tuple) -> tuple | None:
    x = args[0]
    if len(args) > 5 and args[5]:  # ceil_mode
        return None
    shape = _pooled(x, *args[1:5])
    return _new(x, shape), _new(x, shape, torch.long)


def _avg_pool(args: tuple) -> torch.Tensor | None:
    x = args[0]
    if len(args) > 4 and args[4]:  # ceil_mode
        return None
    return _new(x, _pooled(x, *args[1:4]))


def _ones_like(args: tuple, kwargs: dict) -> torch.Tensor | None:
    """The backward pass's seed gradient (its reference kernel would import sympy: 0.5 s)."""
    if set(kwargs) - {"memory_format", "pin_memory"} or len(args) > 1:
        return None
    return _new(args[0], args[0].shape)


def _like(index: int) -> Callable[[tuple], torch.Tensor]:
    return lambda args: _new(args[index], args[index].shape)


def _mean(args: tuple) -> torch.Tensor | None:
    x, dims = args[0], args[1]
    keep = len(args) > 2 and args[2]
    if dims is None or len(args) > 3:
        return None
    dims = {d % x.dim() for d in dims}
    shape = [1 if i in dims else n for i, n in enumerate(x.shape) if keep or i not in dims]
    return _new(x, shape)


# Each operator's rule, with the names of the leading arguments it reads by position.
RULES_BY_POSITION: dict[Any, tuple[Callable[[tuple], Any], tuple[str, ...]]] = {
    _aten.max_pool2d_with_indices.default: (_max_pool, ("self", "kernel_size", "stride", "padding", "dilation",
                                                        "ceil_mode")),
    _aten.max_pool2d_with_indices_backward.default: (_like(1), ("grad_output", "self")),
    _aten.avg_pool2d.default: (_avg_pool, ("self", "kernel_size", "stride", "padding", "ceil_mode")),
    _aten.avg_pool2d_backward.default: (_like(1), ("grad_output", "self")),
    _aten.mean.dim: (_mean, ("self", "dim", "keepdim", "dtype")),
    aten_operator("_log_softmax"): (_like(0), ("self",)),
    aten_operator("_log_softmax_backward_data"): (_like(0), ("grad_output",)),
    _aten.div.Scalar: (_like(0), ("self",)),
    _aten.nll_loss_forward.default: (lambda args: (_new(args[0], ()), _new(args[0], ())) if args[3] != 0 else None,
                                     ("self", "target", "weight", "reduction")),  # mean or sum: scalars
    _aten.nll_loss_backward.default: (_like(1), ("grad_output", "self")),
    _aten.cat.default: (_cat, ("tensors", "dim")),
    _aten.relu_.default: (_in_place, ("self",)),
    _aten.add_.Tensor: (_in_place, ("self", "other")),
    _aten.mul_.Tensor: (_in_place, ("self", "other")),
    _aten.add.Tensor: (_elementwise, ("self", "other")),
    _aten.threshold_backward.default: (_elementwise, ("grad_output", "self")),
    _aten.convolution.default: (_conv, ("input", "weight", "bias", "stride", "padding", "dilation", "transposed")),
    _aten.convolution_backward.default: (_conv_backward, (
        "grad_output", "input", "weight", "bias_sizes", "stride", "padding", "dilation", "transposed",
        "output_padding", "groups", "output_mask")),
    _aten.native_batch_norm.default: (_batch_norm, ("input",)),
    _aten.native_batch_norm_backward.default: (_batch_norm_backward, (
        "grad_out", "input", "weight", "running_mean", "running_var", "save_mean", "save_invstd", "train", "eps",
        "output_mask")),
}


def rules_that_hold(table: dict[Any, tuple[Any, tuple[str, ...]]]) -> dict[Any, Any]:
    """The rules whose operators still have the arguments they read at those positions."""
    return {op: rule for op, (rule, names) in table.items()
            if op is not None and argument_names(op)[:len(names)] == names}


SHAPE_RULES: dict[Any, Callable[[tuple], Any]] = rules_that_hold(RULES_BY_POSITION)
# Operators whose rule also takes the keyword arguments (the others fall back when given any).
KEYWORD_RULES: dict[Any, Callable[[tuple, dict], Any]] = rules_that_hold(
    {_aten.ones_like.default: (_ones_like, ("self",))})


def shape_of(func: Any, args: tuple, kwargs: dict | None) -> Any:
    """``func(*args, **kwargs)`` on meta tensors, by a rule where one applies."""
    if kwargs:
        rule = KEYWORD_RULES.get(func)
        out = rule(args, kwargs) if rule is not None else None
    else:
        rule = SHAPE_RULES.get(func)
        out = rule(args) if rule is not None else None
    return func(*args, **(kwargs or {})) if out is None else out


class MetaShapes(DispatchMode):
    """Every operator run inside goes through :func:`shape_of`."""

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return shape_of(func, args, kwargs)
