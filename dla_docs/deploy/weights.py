"""Seeded, trained-like weights for the deployability checks.

Random initialisation is no basis for an equality check: without trained batch-norm
statistics the activations of a deep variant grow level after level (dla169's logits reach
1e7, so an exported model that differs by 1e-6 relative differs by 10 in absolute terms).
Here every variant gets the same recipe, which keeps activations in range like trained weights:

1. ``torch.manual_seed(SEED)``, then the variant's own initialisation (:meth:`DLA.init_weights`);
2. batch-norm statistics calibrated on one seeded batch (:data:`CALIBRATION_BATCH` random
   images at the image size, ``N(0, 1)``, the range of normalised images): every batch-norm
   layer takes that batch's mean and variance as its running statistics (``momentum=None``,
   one forward pass in training mode), so each normalises its input to about zero mean and unit
   variance, as trained statistics do;
3. evaluation mode. The comparison input is another seeded batch (:func:`sample_input`).

Deterministic on one machine; the exported models are compared with this same model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from dla_docs.zoo.factory import create_model

SEED = 0
INPUT_SEED = 1
CALIBRATION_BATCH = 2


def sample_input(image_size: int, batch: int = 1, seed: int = INPUT_SEED) -> torch.Tensor:
    """A seeded ``(batch, 3, image_size, image_size)`` batch of ``N(0, 1)`` pixels."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, image_size, image_size, generator=generator)


def calibrated_model(name: str, image_size: int) -> nn.Module:
    """Variant ``name`` with seeded weights and calibrated batch-norm statistics, in eval mode."""
    torch.manual_seed(SEED)
    model = create_model(name)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, that batch's statistics
    model.train()
    with torch.no_grad():
        model(sample_input(image_size, CALIBRATION_BATCH, seed=SEED))
    for norm in norms:
        norm.momentum = 0.1
    return model.eval()


def weights_path(workdir: str, name: str) -> Path:
    return Path(workdir) / f"{name}.weights.pt"


def save_weights(model: nn.Module, name: str, workdir: str) -> None:
    """The deploy pass's calibrated ``model``, for the latency pass to time without rebuilding it."""
    torch.save(model.state_dict(), weights_path(workdir, name))
