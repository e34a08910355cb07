"""Peak memory of inference and of a training step, without allocating a single real tensor.

The model is built on the meta device, so every tensor has a shape and a byte size but no
storage behind it. A :class:`~torch.utils._python_dispatch.TorchDispatchMode` sees every
operator's outputs; each new storage is counted when it appears and uncounted when Python
frees it (a weak-reference finaliser), so the live total follows the same lifetimes as a
real CPU run of the same code: views share their base's storage, in-place operators
allocate nothing, and tensors autograd saves for the backward pass live until it ends.

One traced run per mode gives the peak at every batch size. It runs at a batch of
:data:`TRACE_BATCH` (5), a size no dimension of any parameter or buffer has (checked): a new
storage whose tensor leads with that dimension holds one slice per sample, every other
storage (parameters, gradients, BatchNorm statistics, the loss) is the same at any batch.
The sequence of allocations does not depend on the batch, so the peak at any batch is the
maximum, over the allocation events, of the live total there: exact, not an estimate
(``tests/test_memory.py`` checks it against direct traces at other batch sizes and against
the CPU allocator's own accounting of a real run).

Counted: activations, the input batch and every temporary an operator returns; the
parameters and BatchNorm buffers; in training also the gradients and SGD's momentum
buffers (one per parameter; the update itself works in place). Not counted: memory inside
operator implementations that never becomes a tensor (e.g. oneDNN scratch space), the
allocator's own rounding and caching, and the Python interpreter and libraries.
"""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from dla_docs.measure.analysis_records import PeakAtBatch, PeakMemory

BATCH_SIZES = (1, 8, 32, 128)
TRACE_BATCH = 5  # the batch of the traced runs: no parameter or buffer of a DLA has a dimension of 5
_aten = torch.ops.aten


# Shape rules for the hottest operators: the meta kernels of these run in Python and cost
# far more than the whole rest of the trace. Each returns fresh tensors of the real shapes.
def _conv(args: tuple) -> torch.Tensor:
    x, w, _bias, stride, padding, dilation, transposed = args[:7]
    if transposed:
        raise NotImplementedError("transposed convolution")
    side = [(x.shape[2 + i] + 2 * padding[i] - dilation[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1
            for i in range(x.dim() - 2)]
    return x.new_empty((x.shape[0], w.shape[0], *side))


def _conv_backward(args: tuple) -> tuple:
    x, w, mask = args[1], args[2], args[10]
    return (x.new_empty(x.shape) if mask[0] else None, w.new_empty(w.shape) if mask[1] else None,
            w.new_empty((w.shape[0],)) if mask[2] else None)


def _batch_norm(args: tuple) -> tuple:
    x = args[0]
    return x.new_empty(x.shape), x.new_empty((x.shape[1],)), x.new_empty((x.shape[1],))


def _batch_norm_backward(args: tuple) -> tuple:
    x, w, mask = args[1], args[2], args[9]
    return (x.new_empty(x.shape) if mask[0] else None, w.new_empty(w.shape) if mask[1] else None,
            w.new_empty(w.shape) if mask[2] else None)


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
    return x.new_empty(x.shape)


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
    return first.new_empty(shape)


def _pooled(x: torch.Tensor, kernel: Any, stride: Any, padding: Any = 0, dilation: Any = 1) -> list[int]:
    def two(v: Any) -> list[int]:
        v = [v] if isinstance(v, int) else list(v)
        return v * 2 if len(v) == 1 else v

    k, s, p, d = two(kernel), two(stride) if stride else two(kernel), two(padding), two(dilation)
    return [*x.shape[:2], *((x.shape[2 + i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))]


def _max_pool(args: tuple) -> tuple | None:
    x = args[0]
    if len(args) > 5 and args[5]:  # ceil_mode
        return None
    shape = _pooled(x, *args[1:5])
    return x.new_empty(shape), x.new_empty(shape, dtype=torch.long)


def _avg_pool(args: tuple) -> torch.Tensor | None:
    x = args[0]
    if len(args) > 4 and args[4]:  # ceil_mode
        return None
    return x.new_empty(_pooled(x, *args[1:4]))


def _ones_like(args: tuple, kwargs: dict) -> torch.Tensor | None:
    """The backward pass's seed gradient (its reference kernel would import sympy: 0.5 s)."""
    if set(kwargs) - {"memory_format", "pin_memory"} or len(args) > 1:
        return None
    return args[0].new_empty(args[0].shape)


def _like(index: int) -> Callable[[tuple], torch.Tensor]:
    return lambda args: args[index].new_empty(args[index].shape)


def _mean(args: tuple) -> torch.Tensor | None:
    x, dims = args[0], args[1]
    keep = len(args) > 2 and args[2]
    if dims is None or len(args) > 3:
        return None
    dims = {d % x.dim() for d in dims}
    shape = [1 if i in dims else n for i, n in enumerate(x.shape) if keep or i not in dims]
    return x.new_empty(shape)


_SHAPE_RULES: dict[Any, Callable[[tuple], Any]] = {
    _aten.max_pool2d_with_indices.default: _max_pool,
    _aten.max_pool2d_with_indices_backward.default: _like(1),
    _aten.avg_pool2d.default: _avg_pool,
    _aten.avg_pool2d_backward.default: _like(1),
    _aten.mean.dim: _mean,
    _aten._log_softmax.default: _like(0),
    _aten._log_softmax_backward_data.default: _like(0),
    _aten.div.Scalar: _like(0),
    _aten.nll_loss_forward.default: lambda args: (args[0].new_empty(()), args[0].new_empty(()))
    if args[3] != 0 else None,  # mean or sum reduction: a scalar loss and total weight
    _aten.nll_loss_backward.default: _like(1),
    _aten.cat.default: _cat,
    _aten.relu_.default: _in_place,
    _aten.add_.Tensor: _in_place,
    _aten.mul_.Tensor: _in_place,
    _aten.add.Tensor: _elementwise,
    _aten.threshold_backward.default: _elementwise,
    _aten.convolution.default: _conv,
    _aten.convolution_backward.default: _conv_backward,
    _aten.native_batch_norm.default: _batch_norm,
    _aten.native_batch_norm_backward.default: _batch_norm_backward,
}


# Operators whose rule also takes the keyword arguments (the others fall back when given any).
_KEYWORD_RULES: dict[Any, Callable[[tuple, dict], Any]] = {_aten.ones_like.default: _ones_like}


class StorageTracker(TorchDispatchMode):
    """Records each new storage (bytes, per sample or not) when it appears and again, negated, when it dies.

    ``events`` holds ``(bytes, per_sample)`` pairs: ``per_sample`` when the tensor that brought
    the storage leads with the traced ``batch`` (its size is then proportional to the batch).
    """

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        """No: this mode never runs under ``torch.compile``, and the wrapper torch would put
        around ``__torch_dispatch__`` imports ``torch._dynamo`` (seconds) in every worker."""
        return False

    def __init__(self, batch: int, on_operator: Callable[[Any, tuple, dict, Any], None] | None = None) -> None:
        super().__init__()
        self.batch = batch
        self.events: list[tuple[int, bool]] = []
        self._live: set[int] = set()
        self._on_operator = on_operator  # sees (operator, args, kwargs, outputs) of every call

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if kwargs:
            rule = _KEYWORD_RULES.get(func)
            out = rule(args, kwargs) if rule is not None else None
        else:
            rule = _SHAPE_RULES.get(func)
            out = rule(args) if rule is not None else None
        if out is None:
            out = func(*args, **(kwargs or {}))
        if self._on_operator is not None:
            self._on_operator(func, args, kwargs or {}, out)
        if isinstance(out, torch.Tensor):
            self._track(out)
        else:
            for tensor in tree_flatten(out)[0]:
                if isinstance(tensor, torch.Tensor):
                    self._track(tensor)
        return out

    def _track(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        key = storage._cdata
        if key in self._live:
            return
        self._live.add(key)
        size = storage.nbytes()
        per_sample = tensor.dim() > 0 and tensor.shape[0] == self.batch
        if per_sample and size != tensor.numel() * tensor.element_size():
            raise ValueError(f"a storage of {size} bytes behind a tensor of shape {tuple(tensor.shape)}: "
                             "cannot tell what grows with the batch")
        self.events.append((size, per_sample))
        weakref.finalize(storage, self._free, key, size, per_sample)

    def _free(self, key: int, size: int, per_sample: bool) -> None:
        self._live.discard(key)
        self.events.append((-size, per_sample))


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """The cyclic collector off while tracing: every operator call makes short-lived containers,
    and the collections they trigger cost about half the trace. Nothing traced is freed by it:
    storages die by reference counting, which is what the finalisers follow."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_trace_batch(model: nn.Module, batch: int) -> None:
    for name, tensor in (*model.named_parameters(), *model.named_buffers()):
        if batch in tensor.shape:
            raise ValueError(f"{name} has a dimension of {batch}, the traced batch: "
                             "its storages could not be told from per-sample ones")


def _run_inference(model: nn.Module, batch: int, image_size: int, on_operator: Any = None) -> list[tuple[int, bool]]:
    """One forward pass without grad at ``batch``; ``on_operator`` sees every operator call."""
    model.eval()
    with _without_gc(), torch.no_grad(), StorageTracker(batch, on_operator) as tracker:
        image = torch.empty(batch, 3, image_size, image_size, device="meta")
        model(image)
        del image
    return tracker.events


def _run_training(model: nn.Module, batch: int, image_size: int) -> list[tuple[int, bool]]:
    """Forward, loss and backward at ``batch`` from zeroed (``None``) gradients; gradients stay alive."""
    model.train()
    for p in model.parameters():
        p.grad = None
    with _without_gc(), StorageTracker(batch) as tracker:
        image = torch.empty(batch, 3, image_size, image_size, device="meta")
        target = torch.zeros(batch, dtype=torch.long, device="meta")
        loss = nn.functional.cross_entropy(model(image), target)
        loss.backward()
        del image, target, loss
    for p in model.parameters():
        p.grad = None
    return tracker.events


def peak_by_batch(events: list[tuple[int, bool]], traced_batch: int, batches: tuple[int, ...]) -> dict[int, int]:
    """Peak live bytes at each of ``batches`` from the events of one run traced at ``traced_batch``."""
    constant = per_sample = 0
    candidates: list[tuple[int, int]] = [(0, 0)]
    for size, grows in events:
        if grows:
            per_sample += size // traced_batch
        else:
            constant += size
        if size > 0:
            candidates.append((constant, per_sample))
    return {n: max(c + n * s for c, s in candidates) for n in batches}


def _bytes(tensors: Iterator[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def measure_peak_memory(model: nn.Module, image_size: int, batches: tuple[int, ...] = BATCH_SIZES,
                        on_operator: Any = None) -> PeakMemory:
    """Peak bytes of ``model`` (on the meta device) at each of ``batches``.

    ``on_operator(operator, args, kwargs, outputs)`` also sees the inference pass, at :data:`TRACE_BATCH`.
    """
    _check_trace_batch(model, TRACE_BATCH)
    resident = _bytes(model.parameters()) + _bytes(model.buffers())
    trainable = _bytes(p for p in model.parameters() if p.requires_grad)
    inference = peak_by_batch(_run_inference(model, TRACE_BATCH, image_size, on_operator), TRACE_BATCH, batches)
    training = peak_by_batch(_run_training(model, TRACE_BATCH, image_size), TRACE_BATCH, batches)
    return PeakMemory(
        image_size=image_size, parameters=resident, gradients=trainable, optimizer=trainable,
        batches=[PeakAtBatch(n, resident + inference[n], resident + trainable + training[n]) for n in batches],
    )
