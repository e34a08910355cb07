"""The DLA network: stem, two convolution levels, four HDA stages joined by IDA, classifier."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dla_docs.zoo.blocks import AggregationTree

LEVEL_NAMES = ("level0", "level1", "level2", "level3", "level4", "level5")
PARTS = ("base_layer", *LEVEL_NAMES, "global_pool", "fc")


@dataclass(frozen=True)
class LevelInfo:
    """Where a level's output lives and what it looks like (channels, stride)."""

    name: str
    channels: int
    stride: int


def conv_level(in_channels: int, out_channels: int, convs: int, stride: int = 1) -> nn.Sequential:
    """A plain stack of 3x3 conv-BN-ReLU; only the first convolution is strided."""
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [
            nn.Conv2d(in_channels, out_channels, 3, stride=stride if i == 0 else 1,
                      padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        ]
        in_channels = out_channels
    return nn.Sequential(*layers)


class DLA(nn.Module):
    """Deep Layer Aggregation classifier (Yu et al., CVPR 2018).

    ``levels[i]`` is the number of convolutions (levels 0-1) or the depth of the
    aggregation tree (levels 2-5); ``channels[i]`` its output width. Stages 3-5 aggregate
    their own downsampled input (``level_root``): this is the iterative deep aggregation
    (IDA) that links the hierarchical (HDA) trees stage by stage.
    """

    def __init__(
        self,
        levels: tuple[int, ...],
        channels: tuple[int, ...],
        block: type[nn.Module],
        *,
        num_classes: int = 1000,
        in_chans: int = 3,
        cardinality: int = 1,
        base_width: int = 64,
        residual_root: bool = False,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__()
        if len(levels) != 6 or len(channels) != 6:
            raise ValueError("DLA needs exactly six levels and six channel widths")
        self.num_classes = num_classes
        self.drop_rate = drop_rate
        self.base_layer = nn.Sequential(
            nn.Conv2d(in_chans, channels[0], 7, stride=1, padding=3, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(inplace=True),
        )
        self.level0 = conv_level(channels[0], channels[0], levels[0])
        self.level1 = conv_level(channels[0], channels[1], levels[1], stride=2)
        tree_args = dict(cardinality=cardinality, base_width=base_width, root_residual=residual_root)
        self.level2 = AggregationTree(levels[2], block, channels[1], channels[2], 2,
                                      level_root=False, **tree_args)
        self.level3 = AggregationTree(levels[3], block, channels[2], channels[3], 2,
                                      level_root=True, **tree_args)
        self.level4 = AggregationTree(levels[4], block, channels[3], channels[4], 2,
                                      level_root=True, **tree_args)
        self.level5 = AggregationTree(levels[5], block, channels[4], channels[5], 2,
                                      level_root=True, **tree_args)
        self.level_info = tuple(
            LevelInfo(name, width, 2**i) for i, (name, width) in enumerate(zip(LEVEL_NAMES, channels))
        )
        self.num_features = channels[-1]
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = self._classifier(num_classes)
        self.flatten = nn.Flatten(1)

    def _classifier(self, num_classes: int) -> nn.Module:
        """A 1x1 convolution to ``num_classes`` scores; none (identity) for ``num_classes=0``."""
        if num_classes < 0:
            raise ValueError(f"num_classes must be 0 (pooled features) or more, got {num_classes}")
        return nn.Conv2d(self.num_features, num_classes, 1, bias=True) if num_classes else nn.Identity()

    def init_weights(self) -> "DLA":
        """He-normal convolutions and unit BatchNorm, as the original training code used."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.out_channels:
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
        return self

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the 1x1-conv classifier, e.g. to fine-tune on another label set.

        ``num_classes=0`` removes it: the model then returns the pooled features,
        ``(N, num_features)``. The new classifier is initialised like the original one.
        """
        self.num_classes = num_classes
        fc = self._classifier(num_classes)
        if isinstance(fc, nn.Conv2d):
            fc.to(device=self.base_layer[0].weight.device, dtype=self.base_layer[0].weight.dtype)
            fan_out = fc.kernel_size[0] * fc.kernel_size[1] * fc.out_channels
            nn.init.normal_(fc.weight, 0.0, math.sqrt(2.0 / fan_out))
            nn.init.zeros_(fc.bias)
        self.fc = fc

    def forward_levels(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The output of each of the six levels, at strides 1, 2, 4, 8, 16 and 32."""
        x = self.base_layer(x)
        features = []
        for name in LEVEL_NAMES:
            x = getattr(self, name)(x)
            features.append(x)
        return features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last level's feature map (stride 32), before pooling."""
        return self.forward_levels(x)[-1]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool the feature map and classify it; ``pre_logits=True`` stops before the classifier
        and returns the pooled features, ``(N, num_features)``."""
        x = self.global_pool(x)
        if self.drop_rate > 0.0:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        if pre_logits:
            return self.flatten(x)
        return self.flatten(self.fc(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
