"""The building blocks of Deep Layer Aggregation, one small module each.

Attribute names (``conv1``, ``bn1``, ``tree1``, ``root`` ...) are part of the checkpoint
format: they must give the same state-dict keys as the reference implementation so that
published weights load with ``strict=True``. The aggregation structure (trees and their
root nodes) is kept as separate modules so that it can be read back from a live model.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def bottleneck_width(out_channels: int, cardinality: int, base_width: int, expansion: int) -> int:
    """Width of the grouped 3x3 stage of a (ResNeXt-style) bottleneck, as the paper defines it."""
    return int(math.floor(out_channels * (base_width / 64)) * cardinality) // expansion


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity shortcut (DLA-34)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, **_: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, shortcut: torch.Tensor | None = None) -> torch.Tensor:
        shortcut = x if shortcut is None else shortcut
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += shortcut
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 - grouped 3x3 - 1x1 bottleneck; ``cardinality > 1`` makes it the DLA-X block."""

    expansion = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        cardinality: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        mid = bottleneck_width(out_channels, cardinality, base_width, self.expansion)
        self.conv1 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(
            mid, mid, 3, stride=stride, padding=1, groups=cardinality, bias=False
        )
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, shortcut: torch.Tensor | None = None) -> torch.Tensor:
        shortcut = x if shortcut is None else shortcut
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += shortcut
        return self.relu(out)


class Res2NetBottleneck(nn.Module):
    """Bottleneck whose 3x3 stage is split into ``scale`` hierarchical groups (Res2Net).

    In a strided block the groups are independent and the last one is average-pooled
    instead of convolved; otherwise each group also receives the previous group's output.
    """

    expansion = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        cardinality: int = 1,
        base_width: int = 64,
        scale: int = 4,
    ) -> None:
        super().__init__()
        self.is_first = stride > 1
        self.scale = scale
        self.width = bottleneck_width(out_channels, cardinality, base_width, self.expansion)
        hidden = self.width * scale
        self.conv1 = nn.Conv2d(in_channels, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        n_convs = max(1, scale - 1)
        self.convs = nn.ModuleList(
            nn.Conv2d(
                self.width, self.width, 3, stride=stride, padding=1,
                groups=cardinality, bias=False,
            )
            for _ in range(n_convs)
        )
        self.bns = nn.ModuleList(nn.BatchNorm2d(self.width) for _ in range(n_convs))
        if self.is_first:
            self.pool = nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)
        self.conv3 = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, shortcut: torch.Tensor | None = None) -> torch.Tensor:
        shortcut = x if shortcut is None else shortcut
        out = self.relu(self.bn1(self.conv1(x)))
        groups = torch.split(out, self.width, 1)
        outputs: list[torch.Tensor] = []
        carried = groups[0]
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            carried = groups[i] if i == 0 or self.is_first else carried + groups[i]
            carried = self.relu(bn(conv(carried)))
            outputs.append(carried)
        if self.scale > 1:
            outputs.append(self.pool(groups[-1]) if self.is_first else groups[-1])
        out = self.bn3(self.conv3(torch.cat(outputs, 1)))
        out += shortcut
        return self.relu(out)


class AggregationNode(nn.Module):
    """HDA root: concatenate its inputs, 1x1 conv + BN, optional residual from the first."""

    def __init__(self, in_channels: int, out_channels: int, residual: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.residual = residual

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = self.bn(self.conv(torch.cat(inputs, 1)))
        if self.residual:
            out += inputs[0]
        return self.relu(out)


class AggregationTree(nn.Module):
    """A hierarchical deep aggregation (HDA) tree of ``depth`` levels.

    A depth-1 tree holds two blocks merged by an :class:`AggregationNode`; a deeper tree
    holds two subtrees, and the outputs of earlier subtrees (plus, when ``level_root``, the
    stage's downsampled input) are passed down to be merged by the last node.
    """

    def __init__(
        self,
        depth: int,
        block: type[nn.Module],
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        *,
        cardinality: int = 1,
        base_width: int = 64,
        level_root: bool = False,
        root_dim: int = 0,
        root_residual: bool = False,
    ) -> None:
        super().__init__()
        root_dim = root_dim or 2 * out_channels
        if level_root:
            root_dim += in_channels
        self.downsample = nn.MaxPool2d(stride, stride=stride) if stride > 1 else nn.Identity()
        self.project: nn.Module = nn.Identity()
        block_args = dict(cardinality=cardinality, base_width=base_width)
        if depth == 1:
            self.tree1 = block(in_channels, out_channels, stride, **block_args)
            self.tree2 = block(out_channels, out_channels, 1, **block_args)
            if in_channels != out_channels:
                self.project = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, bias=False),
                    nn.BatchNorm2d(out_channels),
                )
            self.root = AggregationNode(root_dim, out_channels, root_residual)
        else:
            tree_args = dict(block_args, root_residual=root_residual)
            self.tree1 = AggregationTree(
                depth - 1, block, in_channels, out_channels, stride, **tree_args
            )
            self.tree2 = AggregationTree(
                depth - 1, block, out_channels, out_channels,
                root_dim=root_dim + out_channels, **tree_args,
            )
        self.depth = depth
        self.level_root = level_root

    def forward(
        self,
        x: torch.Tensor,
        shortcut: torch.Tensor | None = None,
        children: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        children = [] if children is None else children
        bottom = self.downsample(x)
        shortcut = self.project(bottom)
        if self.level_root:
            children.append(bottom)
        x1 = self.tree1(x, shortcut)
        if self.depth == 1:
            x2 = self.tree2(x1)
            return self.root(x2, x1, *children)
        children.append(x1)
        return self.tree2(x1, children=children)


RESIDUAL_BLOCKS: tuple[type[nn.Module], ...] = (BasicBlock, Bottleneck, Res2NetBottleneck)
