"""The FLOPs reconciliation table: each column reproduced by an independent computation."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dla_docs import list_models
from dla_docs.measure.conventions import FLOP_COUNTER, FVCORE, MODEL_INDEX, MULTIPLICATIONS, SETTABLE
from dla_docs.render.text_report import measurement_record
from dla_docs.zoo.factory import create_uninitialised


def _multiplications_from_shapes(model: nn.Module, image_size: int) -> int:
    """One multiplication per weight per output pixel of every convolution (from layer shapes)."""
    total = 0

    def count(conv: nn.Conv2d, _inputs, out: torch.Tensor) -> None:
        nonlocal total
        kh, kw = conv.kernel_size
        total += out.numel() * (conv.in_channels // conv.groups) * kh * kw

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(count)
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, image_size, image_size, device="meta"))
    return total


@pytest.mark.parametrize("variant", list_models())
def test_columns_fvcore_model_index_and_multiplications(variant, measurements, seed_flops):
    m = measurements[variant]
    table = m.flops_reconciliation
    assert table.total(FVCORE) == m.macs
    assert table.total(MODEL_INDEX) == m.flops_model_index
    if variant in seed_flops:  # the published model-index figure, copied from the seed page
        assert table.total(MODEL_INDEX) == seed_flops[variant]
    model = create_uninitialised(variant).to_empty(device="meta")
    multiplications = _multiplications_from_shapes(model, m.image_size)
    assert table.total(MULTIPLICATIONS) == multiplications
    # what `verify` checks recorded FLOPs against under each settable convention
    assert [m.flops(c) for c in SETTABLE] == [m.macs, m.flops_model_index, multiplications]


@pytest.mark.parametrize("variant", ["dla46_c", "dla60_res2next"])
def test_flop_counter_column_is_what_flop_counter_mode_reports(variant, measurements):
    m = measurements[variant]
    model = create_uninitialised(variant).eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:  # a real CPU forward pass, not the meta one of the measurement
        model(torch.zeros(1, 3, m.image_size, m.image_size))
    assert m.flops_reconciliation.total(FLOP_COUNTER) == counter.get_total_flops()
    # ... and it is exactly two per multiply-add of the convolutions.
    assert counter.get_total_flops() == 2 * m.macs_by_operator["conv"]


def test_measure_json_has_the_analysis(measurements):
    record = measurement_record(measurements["dla34"])
    assert {"receptive_field", "peak_memory", "flops_reconciliation"} <= set(record)
    assert [f["name"] for f in record["receptive_field"]["levels"]][-1] == "level5"
    assert [b["batch"] for b in record["peak_memory"]["batches"]] == [1, 8, 32, 128]


def test_timm_gmacs_are_the_fvcore_column(measurements):
    """timm's benchmark CSV (data/, copied from timm's results) publishes GMACs to 2 decimals."""
    import csv
    from pathlib import Path

    rows = csv.DictReader((Path(__file__).resolve().parents[1] / "data" / "timm_benchmark_dla.csv").open())
    published = {row["model"]: float(row["gmacs"]) for row in rows}
    assert set(published) == set(list_models())
    for name, gmacs in published.items():
        table = measurements[name].flops_reconciliation
        assert round(table.total(FVCORE) / 1e9, 2) == gmacs, name
