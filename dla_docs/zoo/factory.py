"""Build a variant's model from its configuration."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


_INITIALISERS = ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "zeros_", "ones_", "constant_")


@contextlib.contextmanager
def _no_initialisation() -> Iterator[None]:
    """Make torch's parameter initialisers no-ops while modules are constructed."""
    saved = {name: getattr(nn.init, name) for name in _INITIALISERS}
    try:
        for name in _INITIALISERS:
            setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, function in saved.items():
            setattr(nn.init, name, function)


def create_uninitialised(name: str, num_classes: int = 1000, in_chans: int = 3) -> DLA:
    """Build variant ``name`` without initialising any weight.

    Measurement only needs shapes, and random initialisation costs more than the trace for
    the large variants, so the initialisers are skipped and the parameters keep whatever
    their fresh storage held: never use this model's outputs.
    """
    with _no_initialisation():
        return build(get_config(name), num_classes, in_chans, 0.0)
