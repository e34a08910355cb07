"""Sliding-window geometry: which input pixels one output pixel of an operation depends on.

Pure arithmetic, no torch. A :class:`Window` ``(stride, start, end)`` says that output pixel
``i`` reads the input pixels ``stride * i + start`` to ``stride * i + end`` (inclusive, before
clipping to the input; negative indices are padding). A convolution or pooling with kernel
``k``, stride ``s``, padding ``p`` and dilation ``d`` is ``Window(s, -p, d * (k - 1) - p)``.
Composing windows along a path and taking the hull over parallel paths gives the
theoretical receptive field of a branching network (Araujo, Norris and Sim, "Computing
receptive fields of convolutional neural networks", Distill 2019): its size is the max over
paths of each side of the window.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def pair(value: int | Sequence[int]) -> tuple[int, int]:
    """A size argument of a convolution or pooling (kernel, stride, padding, dilation) per side,
    (height, width): an integer, or a one-element list, stands for both sides."""
    values = [value] if isinstance(value, int) else list(value)
    if len(values) == 1:
        values *= 2
    if len(values) != 2:
        raise ValueError(f"expected one value or one per side, got {value!r}")
    return values[0], values[1]


@dataclass(frozen=True)
class Window:
    """Output pixel ``i`` depends on input pixels ``stride*i + start`` .. ``stride*i + end``."""

    stride: int
    start: int
    end: int

    @classmethod
    def of_kernel(cls, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> "Window":
        return cls(stride, -padding, dilation * (kernel - 1) - padding)

    @property
    def size(self) -> int:
        return self.end - self.start + 1

    @property
    def centre(self) -> float:
        """Centre of output pixel 0's window, in input pixels (may be a half pixel)."""
        return (self.start + self.end) / 2

    def then(self, layer: "Window") -> "Window":
        """This window followed by ``layer`` (``layer`` reads the output of this one)."""
        return Window(self.stride * layer.stride, self.start + self.stride * layer.start,
                      self.end + self.stride * layer.end)

    def hull(self, other: "Window") -> "Window":
        """Both paths at once: the union of the two windows (their strides must agree)."""
        if self.stride != other.stride:
            raise ValueError(f"parallel paths with strides {self.stride} and {other.stride}")
        return Window(self.stride, min(self.start, other.start), max(self.end, other.end))


IDENTITY = Window(1, 0, 0)


def hull_of(windows: Iterable[Window]) -> Window:
    """Every path at once: the hull of one or more windows (see :meth:`Window.hull`)."""
    return functools.reduce(Window.hull, windows)
