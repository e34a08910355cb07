"""Trained weights, preprocessing and embeddings; the Hub is a cache generated here, never the network."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import PROJECT, write_hub_cache
from PIL import Image

import dla_docs
from dla_docs import list_models
from dla_docs.errors import DlaDocsError
from dla_docs.zoo.pretrained import WeightsUnavailableError
from dla_docs.zoo.weights import CheckpointError

VARIANTS = list_models()


def _hub_file(cache, name):
    return next((cache / f"models--timm--{name}.in1k" / "snapshots").glob("*/model.safetensors"))


@pytest.mark.parametrize("name", [n if n in ("dla46_c", "dla169") else pytest.param(n, marks=pytest.mark.slow)
                                  for n in VARIANTS])
def test_pretrained_loads_strictly_from_the_hub_cache(name, offline_hub, reference):
    from safetensors.torch import load_file

    published = load_file(str(_hub_file(offline_hub, name)))  # the oracle: the file itself
    model = dla_docs.create_model(name, pretrained=True)
    state = model.state_dict()
    assert [[k, list(v.shape), str(v.dtype).removeprefix("torch.")] for k, v in state.items()] == \
        reference[name]["state_dict"]
    for key, tensor in published.items():
        assert torch.equal(state[key], tensor), key
    features = dla_docs.create_model(name, pretrained=True, num_classes=0).eval()
    with torch.no_grad():
        pooled = features(torch.randn(1, 3, 32, 32))
    assert tuple(pooled.shape) == (1, model.num_features) and torch.isfinite(pooled).all()
    assert torch.equal(features.base_layer[0].weight, published["base_layer.0.weight"])


def test_num_classes_0_and_reset_classifier_give_the_pooled_features(offline_hub):
    model = dla_docs.create_model("dla46_c", pretrained=True).eval()
    image = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        features = model.forward_features(image)
        oracle = features.mean(dim=(2, 3))  # global average pooling, computed independently
        pre_logits = model.forward_head(features, pre_logits=True)
        logits = model(image)
        model.reset_classifier(0)
        pooled = model(image)
    assert torch.allclose(pre_logits, oracle, atol=1e-5) and torch.allclose(pooled, oracle, atol=1e-5)
    assert logits.shape == (2, 1000)
    assert not any(k.startswith("fc.") for k in model.state_dict())


def test_another_number_of_classes_keeps_a_fresh_classifier(offline_hub):
    from safetensors.torch import load_file

    model = dla_docs.create_model("dla46_c", pretrained=True, num_classes=10)
    assert model.fc.weight.shape == (10, 256, 1, 1)
    assert torch.equal(model.base_layer[0].weight, load_file(str(_hub_file(offline_hub, "dla46_c")))["base_layer.0.weight"])
    assert model.fc.weight.std() > 0 and model.fc.bias.abs().sum() == 0  # freshly initialised


def _write(path, tensors):
    from safetensors.torch import save_file

    save_file(tensors, str(path))
    return path


def test_a_wrong_dtype_or_shape_is_refused_in_one_line(tmp_path):
    good = dla_docs.create_model("dla46_c").state_dict()
    wrong_dtype = {k: (v.half() if k == "level2.tree1.conv1.weight" else v) for k, v in good.items()}
    with pytest.raises(CheckpointError) as info:
        dla_docs.create_model("dla46_c", checkpoint_path=_write(tmp_path / "half.safetensors", wrong_dtype))
    assert str(info.value).endswith("level2.tree1.conv1.weight: dtype float16, the model needs float32")
    assert "\n" not in str(info.value) and "half.safetensors" in str(info.value)
    wrong_shape = dict(good, **{"fc.weight": torch.zeros(10, 256, 1, 1)})
    with pytest.raises(CheckpointError, match=r"fc\.weight: shape \(10, 256, 1, 1\), the model needs "
                                              r"\(1000, 256, 1, 1\)$"):
        dla_docs.create_model("dla46_c", checkpoint_path=_write(tmp_path / "ten.safetensors", wrong_shape))
    other = dla_docs.create_model("dla34").state_dict()
    with pytest.raises(CheckpointError, match=r"keys do not match the model: \d+ missing \(first: "):
        dla_docs.create_model("dla46_c", checkpoint_path=_write(tmp_path / "dla34.safetensors", other))
    torch.save(wrong_dtype, tmp_path / "half.pth")
    with pytest.raises(CheckpointError, match=r"half\.pth: level2\.tree1\.conv1\.weight: dtype float16"):
        dla_docs.create_model("dla46_c", checkpoint_path=tmp_path / "half.pth")


def test_checkpoint_path_loads_pth_and_safetensors(tmp_path):
    source = dla_docs.create_model("dla46_c")
    torch.save(source.state_dict(), tmp_path / "w.pth")
    _write(tmp_path / "w.safetensors", source.state_dict())
    for name in ("w.pth", "w.safetensors"):
        loaded = dla_docs.create_model("dla46_c", checkpoint_path=tmp_path / name)
        for key, value in source.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value), (name, key)


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    import os

    class Boom:
        def __reduce__(self):
            return os.system, ("true",)

    torch.save({"x": Boom()}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match=r"refused by torch\.load\(weights_only=True\)"):
        dla_docs.create_model("dla46_c", checkpoint_path=tmp_path / "evil.pth")


def test_offline_without_a_cached_file_is_one_clear_line(tmp_path):
    """In a fresh interpreter: huggingface_hub reads HF_HUB_OFFLINE and the cache path at import."""
    code = ("import dla_docs\n"
            "try:\n    dla_docs.create_model('dla34', pretrained=True)\n"
            "except dla_docs.zoo.pretrained.WeightsUnavailableError as e:\n    print(e)\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT), "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("\n") == 1
    assert out.stdout.startswith("timm/dla34.in1k: model.safetensors is not in the Hugging Face cache and "
                                 "HF_HUB_OFFLINE is set; fetch it once with network access: "
                                 "`hf download timm/dla34.in1k model.safetensors`")
    assert issubclass(WeightsUnavailableError, DlaDocsError)


def test_offline_with_the_file_cached_elsewhere_still_refuses(tmp_path, reference, monkeypatch):
    from huggingface_hub import constants

    cache = write_hub_cache(tmp_path / "cache", reference, ["dla46_c"])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # read at call time too
    dla_docs.create_model("dla46_c", pretrained=True)
    with pytest.raises(WeightsUnavailableError, match=r"^timm/dla34\.in1k: model\.safetensors is not in"):
        dla_docs.create_model("dla34", pretrained=True)


# -- preprocessing ---------------------------------------------------------------------------

def test_data_config_is_timms_in1k_evaluation():
    for name in VARIANTS:
        config = dla_docs.data_config(name)
        assert config["input_size"] == (3, 224, 224) and config["crop_pct"] == 0.875
        assert config["interpolation"] == "bilinear"
        assert config["mean"] == (0.485, 0.456, 0.406) and config["std"] == (0.229, 0.224, 0.225)


def test_transform_resizes_the_shorter_side_crops_the_centre_and_normalises():
    # A 400x300 image: left half red, right half blue, with a green square in the centre.
    array = np.zeros((300, 400, 3), dtype=np.uint8)
    array[:, :200, 0] = 255
    array[:, 200:, 2] = 255
    array[130:170, 180:220] = (0, 255, 0)
    tensor = dla_docs.create_transform("dla34")(Image.fromarray(array))
    assert tuple(tensor.shape) == (3, 224, 224)
    # shorter side 300 -> int(224 / 0.875) = 256, so 400 -> 341; the crop keeps x in [58.5, 282.5) of 341
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    pixel = tensor[:, 10, 10] * std + mean
    assert torch.allclose(pixel, torch.tensor([1.0, 0.0, 0.0]), atol=1e-6)  # red, un-normalised exactly
    pixel = tensor[:, 10, 213] * std + mean
    assert torch.allclose(pixel, torch.tensor([0.0, 0.0, 1.0]), atol=1e-6)
    centre = tensor[:, 112, 112] * std + mean
    assert torch.allclose(centre, torch.tensor([0.0, 1.0, 0.0]), atol=1e-6)
    scale = 256 / 300  # the green square is 40 px, so ~34 px after resizing
    green = ((tensor[1] * std[1] + mean[1]) > 0.99).sum(dim=1).max().item()
    assert math.isclose(green, 40 * scale, abs_tol=2)


def test_imagenet_classes_are_the_thousand_in_output_order():
    classes = dla_docs.imagenet_classes()
    lines = (PROJECT / "dla_docs" / "zoo" / "imagenet_classes.tsv").read_text().splitlines()[1:]
    assert len(classes) == 1000 and classes[0].startswith("tench") and classes[999].startswith("toilet tissue")
    assert [line.split("\t")[2] for line in lines] == classes
