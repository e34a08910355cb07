"""One table that reconciles the FLOPs conventions people publish for the same network.

Every convention is a sum of per-operator terms; the table lists each term's contribution
under each convention, so a reader can convert any published figure into any other:

- ``fvcore``: fvcore's count, one per multiply-add (MACs) of convolutions, plus its
  BatchNorm term (eval mode: two per element, scale and shift) and one per *input* element
  of the global average pool. timm's published GMACs are this count;
- ``model_index``: the published model-index convention, fvcore plus one per output element
  of every average pool and of every convolution with a bias (see
  :data:`dla_docs.measure.counting.CONVENTION_TERMS`);
- ``flop_counter``: ``torch.utils.flop_counter.FlopCounterMode``, two FLOPs per multiply-add
  of convolutions and matrix products, nothing else;
- ``multiplications``: multiplications only (torchvision's "GFLOPS"): one per multiply-add of
  convolutions and matrix products.
"""

from __future__ import annotations

from dla_docs.measure.analysis_facts import FlopsReconciliation, Term

_FLOP_COUNTER_OPERATORS = {"convolution": "conv"}  # FlopCounterMode operator -> fvcore operator


def reconcile(image_size: int, macs_by_operator: dict[str, int], convention_terms: dict[str, int],
              flop_counter: dict[str, int]) -> FlopsReconciliation:
    """The table from fvcore's per-operator MACs, the model-index terms and FlopCounterMode's counts."""
    unknown = set(flop_counter) - set(_FLOP_COUNTER_OPERATORS)
    if unknown:
        raise ValueError(f"FlopCounterMode counted operators this table does not place: {sorted(unknown)}")
    conv = macs_by_operator.get("conv", 0)
    terms = [Term("conv", "multiply-adds of every convolution (the classifier is a 1x1 convolution)", {
        "fvcore": conv, "model_index": conv, "flop_counter": flop_counter.get("convolution", 0),
        "multiplications": conv})]
    descriptions = {
        "batch_norm": "BatchNorm in eval mode, as fvcore counts it: two per element (scale and shift)",
        "adaptive_avg_pool2d": "global average pool, one per input element (fvcore)",
    }
    for op, count in sorted(macs_by_operator.items()):
        if op != "conv":
            terms.append(Term(op, descriptions.get(op, f"{op} as fvcore counts it"),
                              {"fvcore": count, "model_index": count}))
    extra = {
        "avg_pool2d": "one per output element of every average pool (model-index)",
        "adaptive_avg_pool2d": "one per output element of the global average pool (model-index)",
        "conv_bias": "one per output element of every convolution with a bias (model-index)",
    }
    for term, count in sorted(convention_terms.items()):
        terms.append(Term(f"{term} (model-index)", extra.get(term, term), {"model_index": count}))
    return FlopsReconciliation(image_size, terms, dict(sorted(flop_counter.items())))
