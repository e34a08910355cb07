"""Build a variant's model from its configuration."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

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


class _SkipInitialisers(TorchFunctionMode):
    """Within: ``torch.nn.init``'s initialisers, and the random fills they call, leave their tensor as it is.

    A function mode (public: ``torch.overrides``) scoped to one ``with`` block, not a swap of
    ``torch.nn.init``'s functions for the whole process. (Building on the meta device and moving
    with ``to_empty`` would skip them too, but moving meta tensors runs torch's Python reference
    of ``empty_like``, which imports sympy: about a second per measuring worker.)
    """

    SKIPPED = frozenset({nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.uniform_, nn.init.normal_,
                         nn.init.trunc_normal_, nn.init.zeros_, nn.init.ones_, nn.init.constant_,
                         torch.Tensor.uniform_, torch.Tensor.normal_})

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        if func in self.SKIPPED:
            return args[0] if args else (kwargs or {}).get("tensor")
        return func(*args, **(kwargs or {}))


def create_uninitialised(name: str, num_classes: int = 1000, in_chans: int = 3) -> DLA:
    """Build variant ``name`` without initialising any weight.

    Measurement only needs shapes, and random initialisation costs more than the trace for
    the large variants, so the initialisers are skipped while the modules are constructed
    (:class:`_SkipInitialisers`) and the parameters keep whatever their fresh storage held:
    never use this model's outputs.
    """
    with _SkipInitialisers():
        return build(get_config(name), num_classes, in_chans, 0.0)
