"""Trained weights: timm's published ``.in1k`` checkpoints, loaded strictly into our models.

``create_model("dla34", pretrained=True)`` fetches ``model.safetensors`` of the Hugging Face
Hub repository ``timm/dla34.in1k`` through ``huggingface_hub`` (so its cache, ``HF_HOME``,
``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE`` apply: a file fetched once is never fetched again),
reads the file's header, checks every tensor's name, shape and dtype against the model, and
only then loads it with ``strict=True``. ``checkpoint_path=`` loads a local ``.safetensors`` or
``.pth`` instead (``torch.load(weights_only=True)``: a pickle cannot run code).

With ``num_classes`` other than 1000 the published classifier is left out and the new one
keeps its fresh initialisation (fine-tuning); ``num_classes=0`` gives the pooled features.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dla_docs.errors import DlaDocsError
from dla_docs.zoo.data import pretrained_config
from dla_docs.zoo.weights import check_against, header_limits, layout, load_state_dict, tensor_layout

CLASSIFIER = ("fc.weight", "fc.bias")
_TRUE = {"1", "on", "yes", "true"}


class WeightsUnavailableError(DlaDocsError):
    """The published weights are neither in the local Hugging Face cache nor downloadable."""


def offline() -> bool:
    """``HF_HUB_OFFLINE`` as set now (huggingface_hub reads it once, at import)."""
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def download(name: str) -> Path:
    """The path of variant ``name``'s ``model.safetensors`` in the Hugging Face cache.

    Downloads it when it is not cached yet (unless offline). Failing that, one clear line
    names the repository and how to fetch it.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    config = pretrained_config(name)
    is_offline = offline()
    try:
        return Path(hf_hub_download(config.hub_id, config.filename, local_files_only=is_offline))
    except LocalEntryNotFoundError:
        why = "HF_HUB_OFFLINE is set" if is_offline else "the Hugging Face Hub cannot be reached"
        raise WeightsUnavailableError(
            f"{config.hub_id}: {config.filename} is not in the Hugging Face cache and {why}; fetch it once "
            f"with network access: `hf download {config.hub_id} {config.filename}` (or run this again online), "
            f"or pass checkpoint_path= to a local copy") from None
    except HfHubHTTPError as exc:
        raise WeightsUnavailableError(f"{config.hub_id}: cannot download {config.filename}: "
                                      f"{str(exc).splitlines()[0]}") from None


def _without_classifier(tensors: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tensors.items() if k not in CLASSIFIER}


def load_weights(model: Any, path: Path, drop_classifier: bool = False) -> None:
    """Check ``path`` against ``model`` tensor by tensor, then load it strictly.

    ``drop_classifier`` leaves the file's ``fc`` out (a model with another number of
    classes keeps its own); everything else must match exactly.
    """
    path = Path(path)
    own = model.state_dict()
    keep = _without_classifier if drop_classifier else dict
    if path.suffix == ".safetensors":
        # the header is bounded by the model's layout (and the published classifier, when dropped)
        limits = header_limits({**{k: (0, 0, 0, 0) for k in CLASSIFIER}, **{k: tuple(v.shape) for k, v in own.items()}})
        check_against(keep(own), keep(layout(path, limits)), str(path))  # the header only: nothing loaded yet
        state_dict = load_state_dict(path)
    else:
        state_dict = load_state_dict(path)
        check_against(keep(own), tensor_layout(keep(state_dict)), str(path))
    if drop_classifier:
        state_dict = {**_without_classifier(state_dict), **{k: v for k, v in own.items() if k in CLASSIFIER}}
    model.load_state_dict(state_dict, strict=True)


def create_model(name: str, pretrained: bool = False, checkpoint_path: str | os.PathLike[str] | None = None,
                 num_classes: int = 1000, in_chans: int = 3, drop_rate: float = 0.0) -> Any:
    """Build variant ``name``; with ``pretrained=True`` load timm's published ImageNet weights.

    ``checkpoint_path`` loads a local ``.safetensors``/``.pth`` instead of the published
    file. ``num_classes=0`` removes the classifier: the model returns pooled features.
    A file that does not fit the model raises :class:`~dla_docs.zoo.weights.CheckpointError`
    naming the first tensor at fault; missing weights raise :class:`WeightsUnavailableError`.
    """
    from dla_docs.zoo import factory

    if checkpoint_path is None and not pretrained:
        return factory.create_model(name, num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
    if in_chans != 3 and checkpoint_path is None:
        raise ValueError("pretrained weights take 3 input channels; in_chans must be 3")
    path = Path(checkpoint_path) if checkpoint_path is not None else download(name)
    # Every tensor is about to be overwritten: skip the random initialisation (the classifier
    # of a model with another number of classes is initialised by reset_classifier below).
    model = factory.create_uninitialised(name, num_classes=num_classes, in_chans=in_chans)
    model.drop_rate = drop_rate
    published = pretrained_config(name).num_classes
    drop_classifier = checkpoint_path is None and num_classes != published
    if drop_classifier:
        model.reset_classifier(num_classes)
    load_weights(model, path, drop_classifier=drop_classifier)
    return model
