"""The twelve DLA variants as plain data (torch-free; :mod:`dla_docs.zoo.factory` builds them).

A variant is nothing but its configuration: everything the documentation says about its
architecture is read from here or from the model built from it, never retyped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class VariantConfig:
    """Everything that distinguishes one DLA variant from another."""

    name: str
    levels: tuple[int, int, int, int, int, int]
    channels: tuple[int, int, int, int, int, int]
    block: str
    cardinality: int = 1
    base_width: int = 64
    residual_root: bool = False
    title: str = ""

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


_DEEP = (16, 32, 128, 256, 512, 1024)
_COMPACT = (16, 32, 64, 64, 128, 256)

VARIANTS: dict[str, VariantConfig] = {
    v.name: v
    for v in (
        VariantConfig("dla34", (1, 1, 1, 2, 2, 1), (16, 32, 64, 128, 256, 512), "basic",
                      title="DLA-34"),
        VariantConfig("dla46_c", (1, 1, 1, 2, 2, 1), _COMPACT, "bottleneck", title="DLA-46-C"),
        VariantConfig("dla46x_c", (1, 1, 1, 2, 2, 1), _COMPACT, "bottleneck",
                      cardinality=32, base_width=4, title="DLA-X-46-C"),
        VariantConfig("dla60x_c", (1, 1, 1, 2, 3, 1), _COMPACT, "bottleneck",
                      cardinality=32, base_width=4, title="DLA-X-60-C"),
        VariantConfig("dla60", (1, 1, 1, 2, 3, 1), _DEEP, "bottleneck", title="DLA-60"),
        VariantConfig("dla60x", (1, 1, 1, 2, 3, 1), _DEEP, "bottleneck",
                      cardinality=32, base_width=4, title="DLA-X-60"),
        VariantConfig("dla102", (1, 1, 1, 3, 4, 1), _DEEP, "bottleneck",
                      residual_root=True, title="DLA-102"),
        VariantConfig("dla102x", (1, 1, 1, 3, 4, 1), _DEEP, "bottleneck",
                      cardinality=32, base_width=4, residual_root=True, title="DLA-X-102"),
        VariantConfig("dla102x2", (1, 1, 1, 3, 4, 1), _DEEP, "bottleneck",
                      cardinality=64, base_width=4, residual_root=True, title="DLA-X-102 64"),
        VariantConfig("dla169", (1, 1, 2, 3, 5, 1), _DEEP, "bottleneck",
                      residual_root=True, title="DLA-169"),
        VariantConfig("dla60_res2net", (1, 1, 1, 2, 3, 1), _DEEP, "res2net",
                      base_width=28, title="DLA-60 Res2Net"),
        VariantConfig("dla60_res2next", (1, 1, 1, 2, 3, 1), _DEEP, "res2net",
                      cardinality=8, base_width=4, title="DLA-60 Res2NeXt"),
    )
}


class UnknownVariantError(KeyError):
    """Raised for a variant name the zoo does not know; the message lists the valid ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)

    def __str__(self) -> str:
        return f"unknown DLA variant {self.name!r}; valid names: {', '.join(list_models())}"


def list_models() -> list[str]:
    """Names of all variants, in the registry's (documentation) order."""
    return list(VARIANTS)


def get_config(name: str) -> VariantConfig:
    try:
        return VARIANTS[name]
    except KeyError:
        raise UnknownVariantError(name) from None
