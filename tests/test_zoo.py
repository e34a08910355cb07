"""The model zoo: checkpoint-compatible state dicts, shapes and the public API."""

from __future__ import annotations

import io

import pytest
import torch

import dla_docs
from dla_docs import create_model, list_models
from dla_docs.zoo.factory import create_uninitialised
from dla_docs.zoo.variants import UnknownVariantError

VARIANTS = list_models()


def test_twelve_variants_in_documented_order():
    assert VARIANTS == [
        "dla34", "dla46_c", "dla46x_c", "dla60x_c", "dla60", "dla60x",
        "dla102", "dla102x", "dla102x2", "dla169", "dla60_res2net", "dla60_res2next",
    ]
    assert dla_docs.create_model is create_model and dla_docs.list_models is list_models


@pytest.mark.parametrize("name", VARIANTS)
def test_state_dict_matches_reference(name, reference):
    model = create_uninitialised(name)
    ours = [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in model.state_dict().items()]
    assert ours == reference[name]["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == reference[name]["parameters"]


@pytest.mark.parametrize("name", VARIANTS)
def test_levels_have_documented_strides_and_logits_shape(name):
    model = create_model(name, num_classes=10).eval()
    image = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        levels = model.forward_levels(image)
        logits = model(image)
    assert [64 // t.shape[-1] for t in levels] == [1, 2, 4, 8, 16, 32]
    assert [t.shape[1] for t in levels] == [info.channels for info in model.level_info]
    assert logits.shape == (2, 10)
    assert torch.isfinite(logits).all()


def test_checkpoint_round_trip_loads_strictly():
    source = create_model("dla46_c")
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    target = create_model("dla46_c")
    target.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    for (k, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert torch.equal(a, b), k


def test_in_chans_and_reset_classifier():
    model = create_model("dla34", in_chans=1)
    model.reset_classifier(7)
    assert model(torch.randn(1, 1, 64, 64)).shape == (1, 7)


def test_initialisation_is_he_normal_not_default():
    model = create_model("dla34")
    weight = model.level2.tree1.conv1.weight
    fan_out = weight.shape[0] * weight.shape[2] * weight.shape[3]
    assert weight.std().item() == pytest.approx((2.0 / fan_out) ** 0.5, rel=0.05)


def test_unknown_variant_lists_valid_names():
    with pytest.raises(UnknownVariantError) as info:
        create_model("dla35")
    assert "dla35" in str(info.value) and "dla169" in str(info.value)
