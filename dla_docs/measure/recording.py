"""The one inference pass of a model on the meta device, recorded once for every view of it.

The model runs once, without grad, on a batch of :data:`~dla_docs.measure.memory.TRACE_BATCH`
images (shapes only: the meta-shape rules beneath the peak-memory tracer,
:class:`~dla_docs.measure.memory.StorageTracker`), under a ``TorchFunctionMode`` that records
every function call, and under the global module hooks (``register_module_forward_pre_hook`` /
``register_module_forward_hook``) that record every module call. A :class:`Call` keeps the
function's name, its arguments bound by name, the ids of the tensors it read and returned, and
the module call running it; where the tracer's lowering is known
(:mod:`dla_docs.measure.lowering`), also the node torch's JIT tracer would record. A
:class:`ModuleCall` keeps the module, its path, the ids of its tensor inputs and outputs, and
the span of calls it ran.

The recording holds shapes and dataflow, never a tensor: each tensor gets a serial id the first
time it is seen (a new Python tensor object, a new id, even where Python reuses the address of
a dead one), its arguments become :class:`TensorRef` (id and shape), and every shape is per
image (a tensor computed from the batch leads with 1, as in a pass over one image). So tensors
die when the model drops them, and the same pass gives the storage events the inference peak
memory is read from (:attr:`Recording.storage_events`) and the operator calls FlopCounterMode's
formulas count (:attr:`Recording.flop_formulas`).

The views read this one recording (:class:`dla_docs.measure.views.Views`). A function without
a lowering rule does not stop the pass: it is recorded as a plain call and the recording is
marked not walkable by fvcore (:attr:`Recording.unrecorded`).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn.modules import module as module_hooks
from torch.overrides import TorchFunctionMode

from dla_docs.measure.adapters.torch_private import FlopCounterFormulas
from dla_docs.measure.lowering import QUERIES, RULES
from dla_docs.measure.memory import TRACE_BATCH, StorageTracker, without_gc


@dataclass(frozen=True, slots=True)
class TensorRef:
    """A tensor as the recording keeps it: its id in the recording and its per-image shape."""

    id: int
    shape: tuple[int, ...]


class TracerNode(NamedTuple):
    """The node torch's JIT tracer records for a call: what fvcore's handles read."""

    kind: str  # "aten::_convolution", "aten::add_" ...
    arguments: list[Any]  # the operator's arguments, as the tracer lowers them (tensors as TensorRef)
    result: Any  # what the call returned (tensors as TensorRef)


@dataclass
class Call:
    """One function call of the forward pass."""

    function: str  # the name the views know it by: "conv2d", "batch_norm", "add_", "cat" ...
    arguments: dict[str, Any] | None  # bound by the function's rule (tensors as TensorRef); None without one
    inputs: tuple[int, ...]  # ids of the tensors among its arguments, in order
    outputs: tuple[int, ...]  # ids of the tensors it returned (an in-place call returns its input)
    module: int  # index of the innermost module call running it (-1: none)
    node: TracerNode | None  # None where the lowering is not known


@dataclass
class ModuleCall:
    """One call of a module; the calls it ran (its submodules' included) are ``calls[first:end]``."""

    path: str | None  # the module's name in the model ("" for the model itself; None if not in it)
    module: nn.Module
    parent: int  # index of the module call that made this one (-1: none)
    scope: tuple[str, ...]  # the names of the named modules running, outermost first (fvcore's scope)
    inputs: tuple[int, ...]  # ids of its positional tensor arguments, in order
    first: int
    outputs: tuple[int, ...] = ()
    end: int = 0


@dataclass
class Recording:
    """The calls and module calls of one forward pass, in the order they started
    (``modules[0]`` is the call of the model itself)."""

    calls: list[Call]
    modules: list[ModuleCall]
    shapes: dict[int, tuple[int, ...]]  # the per-image shape of every tensor seen, by id
    outputs: tuple[int, ...]  # the model's output
    unrecorded: list[str]  # functions without a rule, and calls a rule cannot lower ("conv2d (string padding)")
    batch: int  # the images in the pass
    storage_events: list[tuple[int, bool]]  # the peak-memory tracer's events (StorageTracker.events)
    flop_formulas: FlopCounterFormulas  # FlopCounterMode's formulas, applied to every operator call

    @property
    def walkable(self) -> bool:
        """Whether every call has the tracer's node, so fvcore can walk the recording."""
        return not self.unrecorded

    def shape(self, tensor: int) -> tuple[int, ...]:
        return self.shapes[tensor]

    def module_call(self, path: str) -> ModuleCall:
        """The one call of the module at ``path``."""
        found = [call for call in self.modules if call.path == path]
        if len(found) != 1:
            raise ValueError(f"module {path!r} was called {len(found)} times, not once")
        return found[0]

    def calls_in(self, module_call: ModuleCall) -> list[Call]:
        return self.calls[module_call.first:module_call.end]


class Recorder(TorchFunctionMode):
    """Within: every function call is run and recorded (see the module docstring)."""

    def __init__(self, model: nn.Module, resident: list[torch.Tensor], batch: int) -> None:
        super().__init__()
        self.aliases = {module: name for name, module in model.named_modules()}
        self.resident = {id(t) for t in resident}  # the parameters and buffers, alive throughout
        self.batch = batch
        self.calls: list[Call] = []
        self.modules: list[ModuleCall] = []
        self.running: list[int] = []  # the module calls in progress, innermost last
        self.shapes: dict[int, tuple[int, ...]] = {}
        self._refs: dict[int, tuple[weakref.ref, TensorRef]] = {}  # id(tensor) -> (the tensor, its ref)
        self.unrecorded: list[str] = []

    def ref(self, tensor: torch.Tensor) -> TensorRef:
        """The recording's id and per-image shape of ``tensor`` (a new id for a tensor not seen alive before)."""
        seen = self._refs.get(id(tensor))
        if seen is not None and seen[0]() is tensor:
            return seen[1]
        shape = tuple(tensor.shape)
        if shape and shape[0] == self.batch and id(tensor) not in self.resident:
            shape = (1, *shape[1:])
        ref = TensorRef(len(self.shapes), shape)
        self.shapes[ref.id] = shape
        self._refs[id(tensor)] = (weakref.ref(tensor), ref)
        return ref

    def refs(self, value: Any, found: list[int]) -> Any:
        """``value`` with every tensor in it (nested in lists, tuples and dicts) as a
        :class:`TensorRef`; their ids are appended to ``found``, in order."""
        if isinstance(value, torch.Tensor):
            ref = self.ref(value)
            found.append(ref.id)
            return ref
        if isinstance(value, list):
            return [self.refs(item, found) for item in value]
        if isinstance(value, tuple):
            return tuple(self.refs(item, found) for item in value)
        if isinstance(value, dict):
            return {key: self.refs(item, found) for key, item in value.items()}
        return value

    def ids(self, value: Any) -> tuple[int, ...]:
        """The ids of the tensors in ``value`` (nested in lists, tuples and dicts)."""
        found: list[int] = []
        self.refs(value, found)
        return tuple(found)

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in QUERIES:
            return func(*args, **kwargs)
        rule = RULES.get(func)
        name = rule.name if rule is not None else getattr(func, "__name__", repr(func))
        inputs: list[int] = []
        recorded = self.refs((args, kwargs), inputs)
        arguments = lowered = None
        if rule is None:
            self._unrecorded(name)
        else:
            try:
                arguments = rule.bind(*recorded)
                lowered = rule.lower(arguments)
            except TypeError as exc:
                self._unrecorded(f"{name} ({exc})")
        out = func(*args, **kwargs)
        module = self.running[-1] if self.running else -1
        outputs: list[int] = []
        result = self.refs(out, outputs)
        node = TracerNode(*lowered, result) if lowered is not None else None
        self.calls.append(Call(name, arguments, tuple(inputs), tuple(outputs), module, node))
        return out

    def _unrecorded(self, description: str) -> None:
        if description not in self.unrecorded:
            self.unrecorded.append(description)

    @contextlib.contextmanager
    def module_hooks(self) -> Iterator[None]:
        """Within: every module call is recorded, with the scope fvcore's trace would push."""
        def enter(module: nn.Module, args: tuple) -> None:
            parent = self.running[-1] if self.running else -1
            path = self.aliases.get(module)  # fvcore scopes named modules only
            scope = self.modules[parent].scope if parent >= 0 else ()
            self.modules.append(ModuleCall(path, module, parent, scope if path is None else (*scope, path),
                                           self.ids(args), len(self.calls)))
            self.running.append(len(self.modules) - 1)

        def leave(module: nn.Module, args: tuple, output: Any) -> None:
            call = self.modules[self.running.pop()]
            call.outputs, call.end = self.ids(output), len(self.calls)

        pre = module_hooks.register_module_forward_pre_hook(enter)
        post = module_hooks.register_module_forward_hook(leave, always_call=True)
        try:
            yield
        finally:
            pre.remove()
            post.remove()


def record_forward(model: nn.Module, image_size: int, batch: int = TRACE_BATCH) -> Recording:
    """Run ``model`` once, in eval mode and without grad, on ``batch`` ``3xSxS`` images on the
    device of its parameters (the meta device if it has none; there nothing is computed), and
    record the pass, its storage events and FlopCounterMode's operator calls."""
    model.eval()
    resident = [*model.parameters(), *model.buffers()]
    recorder = Recorder(model, resident, batch)
    flops = FlopCounterFormulas()
    device = resident[0].device if resident else torch.device("meta")
    with without_gc(), torch.no_grad(), StorageTracker(batch, flops) as tracker:
        image = torch.empty(batch, 3, image_size, image_size, device=device)  # traced, not recorded
        with recorder.module_hooks(), recorder:
            output = model(image)
        del image
        outputs = recorder.ids(output)
        del output
    return Recording(recorder.calls, recorder.modules, recorder.shapes, outputs, recorder.unrecorded, batch,
                     list(tracker.events), flops)
