"""Preprocessing as data: what the published weights expect, and a transform for PIL images.

timm's ``.in1k`` weights for every DLA variant were evaluated at 224x224 after resizing the
shorter side to ``int(224 / 0.875) = 256`` pixels (bilinear) and cropping the centre, with
the ImageNet mean and standard deviation. :func:`data_config` returns those settings as a
plain dict (timm's keys), :func:`create_transform` turns a PIL image into the normalised
``(3, H, W)`` tensor the model takes, and :func:`imagenet_classes` names the 1,000 outputs.

Importing this module does not import torch; the transform imports it when called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PretrainedConfig:
    """The published ``.in1k`` weights of one variant: where they are and what they expect."""

    hub_id: str
    license: str
    input_size: tuple[int, int, int] = (3, 224, 224)
    crop_pct: float = 0.875
    interpolation: str = "bilinear"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    num_classes: int = 1000
    filename: str = "model.safetensors"

    @property
    def hub_url(self) -> str:
        return f"https://huggingface.co/{self.hub_id}"


_VARIANT_NAMES = ("dla34", "dla46_c", "dla46x_c", "dla60x_c", "dla60", "dla60x", "dla102", "dla102x",
                  "dla102x2", "dla169", "dla60_res2net", "dla60_res2next")
_UNKNOWN_LICENCE = ("dla60_res2net", "dla60_res2next")  # the Res2Net weights carry no licence on the Hub

PRETRAINED: dict[str, PretrainedConfig] = {
    name: PretrainedConfig(f"timm/{name}.in1k", "unknown" if name in _UNKNOWN_LICENCE else "bsd-3-clause")
    for name in _VARIANT_NAMES
}


def pretrained_config(name: str) -> PretrainedConfig:
    try:
        return PRETRAINED[name]
    except KeyError:
        from dla_docs.zoo.variants import UnknownVariantError

        raise UnknownVariantError(name) from None


def data_config(name: str) -> dict[str, Any]:
    """Input size, crop_pct, interpolation, mean and std of variant ``name``'s weights.

    >>> data_config("dla34")["input_size"]
    (3, 224, 224)
    """
    p = pretrained_config(name)
    return {"input_size": p.input_size, "interpolation": p.interpolation, "mean": p.mean, "std": p.std,
            "crop_pct": p.crop_pct, "crop_mode": "center"}


class ImageTransform:
    """PIL image -> normalised float tensor ``(3, size, size)``, as the weights were evaluated.

    Resize the shorter side to ``int(size / crop_pct)`` (keeping the aspect ratio), crop the
    centre ``size x size``, scale to [0, 1], subtract the mean and divide by the std.
    """

    def __init__(self, input_size: tuple[int, int, int], crop_pct: float, interpolation: str,
                 mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        if interpolation not in ("bilinear", "bicubic", "nearest"):
            raise ValueError(f"unsupported interpolation {interpolation!r}")
        self.size = input_size[-1]
        self.resize_to = math.floor(self.size / crop_pct)
        self.interpolation = interpolation
        self.mean, self.std = tuple(mean), tuple(std)

    def __repr__(self) -> str:
        return (f"ImageTransform(resize shorter side to {self.resize_to} ({self.interpolation}), "
                f"center crop {self.size}, mean={self.mean}, std={self.std})")

    def __call__(self, image: Any) -> Any:
        import numpy as np
        import torch
        from PIL import Image

        resample = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
                    "nearest": Image.Resampling.NEAREST}[self.interpolation]
        image = image.convert("RGB")
        width, height = image.size
        if width <= height:
            new = (self.resize_to, int(self.resize_to * height / width))
        else:
            new = (int(self.resize_to * width / height), self.resize_to)
        image = image.resize(new, resample)
        left = int(round((new[0] - self.size) / 2.0))
        top = int(round((new[1] - self.size) / 2.0))
        image = image.crop((left, top, left + self.size, top + self.size))
        array = np.asarray(image, dtype=np.float32) / 255.0
        tensor = torch.from_numpy(array.transpose(2, 0, 1).copy())
        mean = torch.tensor(self.mean).view(3, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1)
        return (tensor - mean) / std


def create_transform(name_or_config: str | dict[str, Any]) -> ImageTransform:
    """The evaluation transform for a variant's weights (or for a :func:`data_config` dict)."""
    config = data_config(name_or_config) if isinstance(name_or_config, str) else name_or_config
    return ImageTransform(config["input_size"], config["crop_pct"], config["interpolation"], config["mean"],
                          config["std"])


@lru_cache(maxsize=1)
def _classes() -> tuple[tuple[str, str], ...]:
    text = resources.files("dla_docs.zoo").joinpath("imagenet_classes.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines()[1:]:
        index, synset, names = line.split("\t")
        if int(index) != len(rows):
            raise ValueError(f"imagenet_classes.tsv: class {index} out of order")
        rows.append((synset, names))
    return tuple(rows)


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet-1k class names in model output order (``"tench, Tinca tinca"``, ...)."""
    return [names for _, names in _classes()]
