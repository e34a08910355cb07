"""The private torch names the measurement uses, each beside the public path it stands in for.

- ``torch.utils._python_dispatch.TorchDispatchMode``: the base of the meta-shape rules and of
  the peak-memory tracer (:class:`DispatchMode`). torch's "extending torch" notes describe it,
  but it lives in a private module and has no public path.
- ``TorchDispatchMode._should_skip_dynamo``: overridden so that entering a mode never imports
  ``torch._dynamo``.
- ``OpOverload._schema``: the argument names of an ATen operator (:func:`argument_names`), so
  that the meta-shape rules index arguments by position only where the schema still puts them
  there.
- The ``out_val`` keyword of the formulas in ``torch.utils.flop_counter.flop_registry``
  (:class:`FlopCounterFormulas`); the public path, ``FlopCounterMode`` around a forward pass,
  takes over when a formula refuses it.
- Private ATen operators (``aten._log_softmax``, ``aten._log_softmax_backward_data``), looked up
  by :func:`aten_operator`: ``None`` where this torch has no such operator.

On a torch other than the checked one (:func:`dla_docs.measure.adapters.checked`), none of
them is used: no operator schema is read (so no meta-shape rule applies and torch's own meta
kernels run), and FlopCounterMode's count comes from FlopCounterMode itself.

The versions these were checked against: :data:`dla_docs.measure.adapters.CHECKED_VERSIONS`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch
from torch import nn
from torch.utils import flop_counter
from torch.utils._python_dispatch import TorchDispatchMode

from dla_docs.measure.adapters import checked

PRIVATE = checked("torch")  # the private names below are used only on the checked torch

# FlopCounterMode's formulas by operator packet; None off the checked torch.
FLOP_FORMULAS: dict[Any, Any] | None = getattr(flop_counter, "flop_registry", None) if PRIVATE else None


class DispatchMode(TorchDispatchMode):
    """A ``TorchDispatchMode`` whose use never imports ``torch._dynamo``."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Private hook. Unless it says False, torch wraps __torch_dispatch__ in a dynamo "skip"
        # guard, and building that guard imports torch._dynamo (seconds, in every worker). These
        # modes never run under torch.compile. Public alternative: none; a torch without the hook
        # never calls it, and then only pays for the import.
        return False


def argument_names(op: Any) -> tuple[str, ...]:
    """The names of an ATen operator overload's arguments, in schema order; ``()`` if unreadable.

    Private: ``OpOverload._schema``. Public alternative: none (``torch.ops`` lists overloads,
    not their arguments); callers treat ``()`` as "unknown" and leave the call to torch."""
    if not PRIVATE:
        return ()
    try:
        return tuple(argument.name for argument in op._schema.arguments)
    except AttributeError:
        return ()


def aten_operator(name: str, overload: str = "default") -> Any | None:
    """The ATen operator ``aten::name.overload``, or ``None`` where this torch has none (off the
    checked torch, ``None`` for a private name such as ``_log_softmax``). Public alternative:
    none; callers leave such a call to torch's own kernel."""
    if name.startswith("_") and not PRIVATE:
        return None
    try:
        return getattr(getattr(torch.ops.aten, name), overload)
    except (AttributeError, RuntimeError):
        return None


class FlopCounterFormulas:
    """FlopCounterMode's own per-operator formulas, applied to every operator call of a traced
    pass: FlopCounterMode's count without a second pass under it.

    Each formula is called as FlopCounterMode calls it, with the private ``out_val`` keyword.
    If the table is missing or a formula refuses the call, :meth:`per_image` runs the public
    path instead: ``FlopCounterMode`` itself around a forward pass of the model.
    """

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.usable = FLOP_FORMULAS is not None

    def __call__(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        if not self.usable:
            return
        packet = func.overloadpacket
        formula = FLOP_FORMULAS.get(packet)
        if formula is None:
            return
        try:
            self.counts[packet.__name__] += int(formula(*args, **kwargs, out_val=out))
        except TypeError:  # the private calling convention changed
            self.usable = False

    def per_image(self, batch: int, model: nn.Module, image_size: int) -> dict[str, int]:
        """The counts of the traced pass over ``batch`` images, per image, by operator name.

        ``model`` and ``image_size`` are those of the traced pass (used by the public path only)."""
        counts = self.counts if self.usable else flop_counter_mode_counts(model, batch, image_size)
        if any(count % batch for count in counts.values()):
            raise ValueError(f"FlopCounterMode's counts {dict(counts)} are not a multiple of the batch {batch}")
        return {name: count // batch for name, count in sorted(counts.items())}


def flop_counter_mode_counts(model: nn.Module, batch: int, image_size: int) -> dict[str, int]:
    """The public path: ``FlopCounterMode`` around one no-grad forward pass of ``model`` (on the
    meta device, torch's own meta kernels beneath it) at ``batch`` images, by operator name."""
    counter = flop_counter.FlopCounterMode(display=False)
    model.eval()
    with torch.no_grad(), counter:
        model(torch.empty(batch, 3, image_size, image_size, device="meta"))
    return {packet.__name__: int(n) for packet, n in counter.get_flop_counts()["Global"].items()}
