"""Operator handles: what one recorded operator contributes to each count.

fvcore walks the recorded nodes (:mod:`dla_docs.measure.views.counts`) once and asks a handle
per operator kind for a ``Counter``. We give it a single table whose handles answer for every
count at once, each keyed by ``(Count, name)``, so one walk yields fvcore's MACs, fvcore's
activations, the extra terms of the published model-index convention and the size of what
fvcore skips:

- ``Count.MACS``: fvcore's default flop handles (one multiply-add counts as one "flop");
- ``Count.ACTS``: fvcore's default activation handles;
- ``Count.EXTRA``: the terms a convention adds on top of fvcore's count;
- ``Count.SKIPPED`` / ``Count.SKIPPED_ELEMS``: calls and output elements of operators that
  fvcore's flop table does not count.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from math import prod
from numbers import Number
from typing import Any

from fvcore.nn.jit_handles import get_shape

from dla_docs.measure.adapters.fvcore_private import default_activation_handles, default_flop_handles
from dla_docs.measure.conventions import TERMS, Convention

Handle = Callable[[list[Any], list[Any]], Counter]
FVCORE_FLOP_HANDLES = default_flop_handles()
FVCORE_ACTIVATION_HANDLES = default_activation_handles()


class Count(enum.Enum):
    """Which count an entry of a handle's ``Counter`` belongs to (its key is ``(Count, name)``)."""

    MACS = "macs"
    ACTS = "acts"
    EXTRA = "extra"
    SKIPPED = "skipped"
    SKIPPED_ELEMS = "skipped_elems"


MACS, ACTS, EXTRA, SKIPPED, SKIPPED_ELEMS = Count

# Operators that fvcore's flop table leaves out but whose output size we still want to report
# ("what counting them would add"). Anything else fvcore skips is still listed, by call count.
PROBED_OPS = (
    "aten::add", "aten::add_", "aten::mul", "aten::mul_",
    "aten::max_pool2d", "aten::avg_pool2d", "aten::mean", "aten::sum",
)


def output_elements(outputs: list[Any]) -> int:
    shape = get_shape(outputs[0])
    return prod(shape) if shape else 0


def conv_has_bias(inputs: list[Any]) -> bool:
    """``aten::_convolution``'s third input is the bias, or ``None``."""
    return get_shape(inputs[2]) is not None


# Which operator calls each term of :data:`dla_docs.measure.conventions.TERMS` counts (one op
# per output element): term name -> (operator, applies-to-this-call).
CONVENTION_TERMS: dict[str, tuple[str, Callable[[list[Any]], bool]]] = {
    "avg_pool2d": ("aten::avg_pool2d", lambda inputs: True),
    "adaptive_avg_pool2d": ("aten::adaptive_avg_pool2d", lambda inputs: True),
    "conv_bias": ("aten::_convolution", conv_has_bias),
}

assert set(CONVENTION_TERMS) == set(TERMS)


def _named(kind: str, value: Counter | Number) -> Counter:
    if isinstance(value, Counter):
        return value
    return Counter({kind.split("::", 1)[-1]: value})


def _keyed(count: Count, counts: Mapping[str, Number]) -> Counter:
    return Counter({(count, op): int(n) for op, n in counts.items()})


def combined_handle(kind: str) -> Handle:
    """One handle for ``kind`` that answers for every count in the module docstring."""
    flop = FVCORE_FLOP_HANDLES.get(kind)
    act = FVCORE_ACTIVATION_HANDLES.get(kind)
    terms = [(term, applies) for term, (op, applies) in CONVENTION_TERMS.items() if op == kind]
    probed = flop is None and kind in PROBED_OPS

    def handle(inputs: list[Any], outputs: list[Any]) -> Counter:
        counts: Counter = Counter()
        if flop is not None:
            counts.update(_keyed(MACS, _named(kind, flop(inputs, outputs))))
        if act is not None:
            counts.update(_keyed(ACTS, _named(kind, act(inputs, outputs))))
        for term, applies in terms:
            if applies(inputs):
                counts[(EXTRA, term)] += output_elements(outputs)
        if probed:
            counts[(SKIPPED, kind)] += 1
            counts[(SKIPPED_ELEMS, kind)] += output_elements(outputs)
        return counts

    return handle


def combined_handles() -> dict[str, Handle]:
    kinds = set(FVCORE_FLOP_HANDLES) | set(FVCORE_ACTIVATION_HANDLES) | set(PROBED_OPS)
    kinds |= {op for op, _ in CONVENTION_TERMS.values()}
    return {kind: combined_handle(kind) for kind in sorted(kinds)}


def select(counts: Mapping[tuple[Count, str], int], count: Count) -> dict[str, int]:
    """The entries of one count, keyed by operator or term name."""
    return dict(sorted((name, int(v)) for (kind, name), v in counts.items() if kind is count))


def total(counts: Mapping[tuple[Count, str], int], count: Count) -> int:
    return sum(select(counts, count).values())


def convention_total(counts: Mapping[tuple[Count, str], int], convention: Convention) -> int:
    """FLOPs of one module under ``convention``."""
    return convention.total(select(counts, MACS), select(counts, EXTRA))


def merge_skipped(probed: Mapping[str, int], unsupported: Iterable[tuple[str, int]]) -> dict[str, int]:
    merged = Counter(probed)
    merged.update(dict(unsupported))
    return dict(sorted(merged.items()))
