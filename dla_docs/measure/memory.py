"""Peak memory of inference and of a training step, without allocating a single real tensor.

The model is built on the meta device, so every tensor has a shape and a byte size but no
storage behind it. A dispatch mode (:class:`~dla_docs.measure.meta_shapes.MetaShapes`) sees every
operator's outputs; each new storage is counted when it appears and uncounted when Python
frees it (a weak-reference finaliser on torch's one Python object per storage, whose ``id``
names the storage while it lives), so the live total follows the same lifetimes as a
real CPU run of the same code: views share their base's storage, in-place operators
allocate nothing, and tensors autograd saves for the backward pass live until it ends.

One traced run per mode gives the peak at every batch size: for inference, the recorded pass
(:func:`dla_docs.measure.recording.record_forward` runs under the tracer), for training one
more pass here (:func:`training_events`). Both run at a batch of :data:`TRACE_BATCH` (5), a size no dimension of any parameter or buffer has (checked): a new
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

from dla_docs.measure.analysis_facts import PeakAtBatch, PeakMemory
from dla_docs.measure.meta_shapes import MetaShapes, shape_of

BATCH_SIZES = (1, 8, 32, 128)
TRACE_BATCH = 5  # the batch of the traced runs: no parameter or buffer of a DLA has a dimension of 5


class StorageTracker(MetaShapes):
    """Records each new storage (bytes, per sample or not) when it appears and again, negated, when it dies.

    ``events`` holds ``(bytes, per_sample)`` pairs: ``per_sample`` when the tensor that brought
    the storage leads with the traced ``batch`` (its size is then proportional to the batch).
    """

    def __init__(self, batch: int, on_operator: Callable[[Any, tuple, dict, Any], None] | None = None) -> None:
        super().__init__()
        self.batch = batch
        self.events: list[tuple[int, bool]] = []
        self._live: dict[int, weakref.ref] = {}  # id of a live storage -> the weak reference that sees it die
        self._on_operator = on_operator  # sees (operator, args, kwargs, outputs) of every call

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = shape_of(func, args, kwargs)
        if self._on_operator is not None:
            self._on_operator(func, args, kwargs or {}, out)
        self._track_all(out)
        return out

    def _track_all(self, out: Any) -> None:
        """Track every tensor an operator returned (one, or a tuple or list of them and ``None``)."""
        if isinstance(out, torch.Tensor):
            self._track(out)
        elif isinstance(out, (tuple, list)):
            for item in out:
                self._track_all(item)

    def _track(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        key = id(storage)
        if key in self._live:
            return
        size = storage.nbytes()
        per_sample = tensor.dim() > 0 and tensor.shape[0] == self.batch
        if per_sample and size != tensor.numel() * tensor.element_size():
            raise ValueError(f"a storage of {size} bytes behind a tensor of shape {tuple(tensor.shape)}: "
                             "cannot tell what grows with the batch")
        self.events.append((size, per_sample))
        # a weak reference's callback, as weakref.finalize uses, without finalize's registry (a fifth of the cost)
        self._live[key] = weakref.ref(storage, lambda _, free=self._free, event=(-size, per_sample): free(key, event))

    def _free(self, key: int, event: tuple[int, bool]) -> None:
        del self._live[key]
        self.events.append(event)


@contextlib.contextmanager
def without_gc() -> Iterator[None]:
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


def check_trace_batch(model: nn.Module, batch: int) -> None:
    """Refuse a ``batch`` that some parameter or buffer has as a dimension: its storages could not
    be told from per-sample ones."""
    for name, tensor in (*model.named_parameters(), *model.named_buffers()):
        if batch in tensor.shape:
            raise ValueError(f"{name} has a dimension of {batch}, the traced batch: "
                             "its storages could not be told from per-sample ones")


def training_events(model: nn.Module, batch: int, image_size: int) -> list[tuple[int, bool]]:
    """The storage events of one training step's forward, loss and backward at ``batch``, from
    zeroed (``None``) gradients; gradients stay alive."""
    model.train()
    for p in model.parameters():
        p.grad = None
    with without_gc(), StorageTracker(batch) as tracker:
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


def peak_memory(model: nn.Module, image_size: int, inference_events: list[tuple[int, bool]],
                inference_batch: int, batches: tuple[int, ...] = BATCH_SIZES) -> PeakMemory:
    """Peak bytes of ``model`` (on the meta device) at each of ``batches``: inference from the
    storage events of its recorded pass at ``inference_batch`` images (``inference_events``),
    training from one step traced here at :data:`TRACE_BATCH`."""
    check_trace_batch(model, inference_batch)
    check_trace_batch(model, TRACE_BATCH)
    resident = _bytes(model.parameters()) + _bytes(model.buffers())
    trainable = _bytes(p for p in model.parameters() if p.requires_grad)
    inference = peak_by_batch(inference_events, inference_batch, batches)
    training = peak_by_batch(training_events(model, TRACE_BATCH, image_size), TRACE_BATCH, batches)
    return PeakMemory(
        image_size=image_size, parameters=resident, gradients=trainable, optimizer=trainable,
        batches=[PeakAtBatch(n, resident + inference[n], resident + trainable + training[n]) for n in batches],
    )
