"""One table that reconciles the FLOPs conventions people publish for the same network.

Every convention (:data:`dla_docs.measure.conventions.CONVENTIONS`) is a sum of per-operator
terms; the table lists each term's contribution under each convention, so a reader can
convert any published figure into any other:

- ``fvcore``: fvcore's count, one per multiply-add (MACs) of convolutions, plus its
  BatchNorm term (eval mode: two per element, scale and shift) and one per *input* element
  of the global average pool. timm's published GMACs are this count;
- ``model-index``: the published model-index convention, fvcore plus one per output element
  of every average pool and of every convolution with a bias;
- ``flop-counter``: ``torch.utils.flop_counter.FlopCounterMode``, two FLOPs per multiply-add
  of convolutions and matrix products, nothing else;
- ``multiplications``: multiplications only (torchvision's "GFLOPS"): one per multiply-add of
  convolutions.

Which convention counts which row is read from each :class:`Convention`, never written here.
"""

from __future__ import annotations

from dla_docs.measure.analysis_facts import FlopsReconciliation, Term
from dla_docs.measure.conventions import CONVENTIONS, TERMS

_FLOP_COUNTER_OPERATORS = {"convolution": "conv"}  # FlopCounterMode operator -> fvcore operator
_DESCRIPTIONS = {
    "conv": "multiply-adds of every convolution (the classifier is a 1x1 convolution)",
    "batch_norm": "BatchNorm in eval mode, as fvcore counts it: two per element (scale and shift)",
    "adaptive_avg_pool2d": "global average pool, one per input element (fvcore)",
}


def reconcile(image_size: int, macs_by_operator: dict[str, int], convention_terms: dict[str, int],
              flop_counter: dict[str, int]) -> FlopsReconciliation:
    """The table from fvcore's per-operator MACs, the conventions' terms and FlopCounterMode's counts."""
    unknown = set(flop_counter) - set(_FLOP_COUNTER_OPERATORS)
    if unknown:
        raise ValueError(f"FlopCounterMode counted operators this table does not place: {sorted(unknown)}")
    terms = []
    for op in ["conv", *sorted(set(macs_by_operator) - {"conv"})]:
        contributions = {}
        for convention in CONVENTIONS:
            if convention.counter:
                counted = [n for fc_op, n in flop_counter.items() if _FLOP_COUNTER_OPERATORS[fc_op] == op]
                if counted or op in _FLOP_COUNTER_OPERATORS.values():
                    contributions[convention.key] = sum(counted)
            elif convention.counts_operator(op):
                contributions[convention.key] = macs_by_operator.get(op, 0)
        terms.append(Term(op, _DESCRIPTIONS.get(op, f"{op} as fvcore counts it"), contributions))
    for term, count in sorted(convention_terms.items()):
        using = [c for c in CONVENTIONS if term in c.terms]
        names = ", ".join(c.name for c in using)
        terms.append(Term(f"{term} ({names})", f"{TERMS.get(term, term)} ({names})", {c.key: count for c in using}))
    return FlopsReconciliation(image_size, terms, dict(sorted(flop_counter.items())))
