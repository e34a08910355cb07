"""The FLOPs conventions: the one definition that everything about FLOPs derives from.

People publish different "FLOPs" for the same network. Each convention here is a sum of
per-operator terms, declared once as a :class:`Convention`; from it follow

- what counting adds to fvcore's walk (:mod:`~dla_docs.measure.counting` counts every
  :data:`TERMS` entry once, for every convention);
- a measurement's total under a convention (:meth:`Convention.total`, behind
  :meth:`~dla_docs.measure.facts.Measurement.flops` and ``flops_model_index``);
- the reconciliation table's columns (:mod:`~dla_docs.measure.reconcile`);
- which ``convention`` a project may configure (:data:`SETTABLE`, checked by
  :mod:`dla_docs.config`);
- the pages' column labels (the templates loop over :data:`CONVENTIONS`).

Torch-free, so configuration loading and ``--help`` never import the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Terms a convention may add on top of fvcore's multiply-adds: one operation per output
# element of the operator calls each names (which calls: ``counting.CONVENTION_TERMS``).
TERMS: dict[str, str] = {
    "avg_pool2d": "one per output element of every average pool",
    "adaptive_avg_pool2d": "one per output element of the global average pool",
    "conv_bias": "one per output element of every convolution with a bias",
}


@dataclass(frozen=True)
class Convention:
    """One way of counting FLOPs, as a sum of per-operator terms.

    ``name`` is how settings, pages and messages write it; ``key`` (derived) is how JSON
    records and templates key it. ``operators``: the fvcore operators whose multiply-adds it
    counts (``None``: every operator fvcore counts); ``terms``: the :data:`TERMS` it adds;
    ``counter``: counted by ``FlopCounterMode`` itself rather than from fvcore's walk (then a
    measurement's counts alone cannot give its total, and no setting may name it).
    """

    name: str
    label: str            # its column on a model card's reconciliation table
    label_billions: str   # its column on the family page, in billions
    operators: tuple[str, ...] | None = None
    terms: tuple[str, ...] = ()
    counter: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.terms) - set(TERMS)
        if unknown:
            raise ValueError(f"convention {self.name!r} names unknown terms {sorted(unknown)}")

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        return self.name.replace("-", "_")

    def counts_operator(self, operator: str) -> bool:
        """Whether fvcore's multiply-adds of ``operator`` are part of this convention."""
        return not self.counter and (self.operators is None or operator in self.operators)

    def total(self, macs_by_operator: Mapping[str, int], terms: Mapping[str, int]) -> int:
        """The total from fvcore's per-operator multiply-adds and the counted :data:`TERMS`."""
        if self.counter:
            raise ValueError(f"the {self.name} convention is counted by FlopCounterMode, not from fvcore's count")
        return (sum(n for op, n in macs_by_operator.items() if self.counts_operator(op))
                + sum(terms.get(t, 0) for t in self.terms))


FVCORE = Convention("fvcore", "fvcore (MACs)", "fvcore GMACs")
# The published model-index convention: fvcore plus one per output of every average pool and
# biased convolution; it reproduces the FLOPs the model-index records.
MODEL_INDEX = Convention("model-index", "model-index FLOPs", "model-index GFLOPs",
                         terms=("avg_pool2d", "adaptive_avg_pool2d", "conv_bias"))
# torch.utils.flop_counter.FlopCounterMode: two per multiply-add of convolutions and matrix products.
FLOP_COUNTER = Convention("flop-counter", "torch FlopCounterMode", "FlopCounterMode GFLOPs", counter=True)
# Multiplications only (torchvision's "GFLOPS"): one per multiply-add of the convolutions (the
# classifier is a 1x1 convolution).
MULTIPLICATIONS = Convention("multiplications", "multiplications only", "multiplications (G)", operators=("conv",))

CONVENTIONS: tuple[Convention, ...] = (FVCORE, MODEL_INDEX, FLOP_COUNTER, MULTIPLICATIONS)
SETTABLE: tuple[Convention, ...] = tuple(c for c in CONVENTIONS if not c.counter)

