"""Build a variant's model from its configuration."""

from __future__ import annotations

import torch
from torch import nn

from dla_docs.zoo.blocks import BasicBlock, Bottleneck, Res2NetBottleneck
from dla_docs.zoo.network import DLA
from dla_docs.zoo.variants import VariantConfig, get_config

BLOCKS: dict[str, type[nn.Module]] = {
    "basic": BasicBlock,
    "bottleneck": Bottleneck,
    "res2net": Res2NetBottleneck,
}


def build(config: VariantConfig, num_classes: int, in_chans: int, drop_rate: float) -> DLA:
    return DLA(
        config.levels,
        config.channels,
        BLOCKS[config.block],
        num_classes=num_classes,
        in_chans=in_chans,
        cardinality=config.cardinality,
        base_width=config.base_width,
        residual_root=config.residual_root,
        drop_rate=drop_rate,
    )


def create_model(
    name: str, num_classes: int = 1000, in_chans: int = 3, drop_rate: float = 0.0
) -> DLA:
    """Build variant ``name`` with freshly initialised weights (no download, ever)."""
    return build(get_config(name), num_classes, in_chans, drop_rate).init_weights()


def create_uninitialised(name: str, num_classes: int = 1000, in_chans: int = 3) -> DLA:
    """Build variant ``name`` without initialising any weight.

    Measurement only needs shapes, and random initialisation costs more than the trace for
    the large variants, so the model is built on the meta device (where the initialisers
    compute nothing) and moved to the CPU with ``to_empty``: its parameters keep whatever
    their fresh storage held, so never use this model's outputs.
    """
    with torch.device("meta"):
        model = build(get_config(name), num_classes, in_chans, 0.0)
    return model.to_empty(device="cpu")
