"""The family page's scatter plot of MACs against parameters, as a small inline SVG.

Twelve points need no plotting library: the SVG is written directly, so it is byte-stable,
weighs a few kilobytes, and takes the page's colours (light and dark palettes) through CSS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup

from dla_docs.measure.record import Measurement

WIDTH, HEIGHT = 720, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 130, 20, 50


@dataclass(frozen=True)
class LogAxis:
    """A base-10 logarithmic axis mapping ``[low, high]`` onto ``[start, end]`` pixels."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        fraction = (math.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        return self.start + fraction * (self.end - self.start)

    def ticks(self) -> list[float]:
        """1-2-5 ticks inside the axis range."""
        out = []
        for exponent in range(math.floor(math.log10(self.low)), math.ceil(math.log10(self.high)) + 1):
            for mantissa in (1, 2, 5):
                value = mantissa * 10**exponent
                if self.low <= value <= self.high:
                    out.append(value)
        return out


Box = tuple[float, float, float, float]  # left, top, right, bottom
CHAR_WIDTH, LINE_HEIGHT = 7.2, 14


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _label_position(px: float, py: float, text: str, placed: list[Box]) -> tuple[float, float]:
    """Right of the point, nudged down or up until it clears every label placed so far."""
    width = CHAR_WIDTH * len(text)
    for step in range(0, 12):
        dy = (step + 1) // 2 * LINE_HEIGHT * (1 if step % 2 else -1)
        box = (px + 8, py + 4 + dy - LINE_HEIGHT + 3, px + 8 + width, py + 4 + dy + 3)
        if not any(_overlaps(box, other) for other in placed):
            placed.append(box)
            return px + 8, py + 4 + dy
    placed.append((px + 8, py - 10, px + 8 + width, py + 7))
    return px + 8, py + 4


def _bounds(values: list[float]) -> tuple[float, float]:
    return min(values) / 1.35, max(values) * 1.35


def _tick_label(value: float, scale: float) -> str:
    scaled = value / scale
    return f"{scaled:g}"


def macs_vs_parameters_svg(measurements: Mapping[str, Measurement]) -> Markup:
    """Scatter plot (log-log) of GMACs against millions of parameters, one labelled point each."""
    items = list(measurements.items())
    x = LogAxis(*_bounds([m.parameters for _, m in items]), LEFT, WIDTH - RIGHT)
    y = LogAxis(*_bounds([m.macs for _, m in items]), HEIGHT - BOTTOM, TOP)
    parts = [
        f'<svg class="dla-plot" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="dla-plot-title">',
        '<title id="dla-plot-title">MACs against parameters for the DLA family (log-log)</title>',
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}"/>',
    ]
    for tick in x.ticks():
        px = round(x(tick), 1)
        parts.append(f'<line class="grid" x1="{px}" y1="{TOP}" x2="{px}" y2="{HEIGHT - BOTTOM}"/>')
        parts.append(f'<text class="tick" x="{px}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                     f'{_tick_label(tick, 1e6)}</text>')
    for tick in y.ticks():
        py = round(y(tick), 1)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{py}" x2="{WIDTH - RIGHT}" y2="{py}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 8}" y="{py + 4}" text-anchor="end">'
                     f'{_tick_label(tick, 1e9)}</text>')
    parts.append(f'<text class="axis" x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 10}" '
                 f'text-anchor="middle">parameters (millions)</text>')
    parts.append(f'<text class="axis" transform="translate(18 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" '
                 f'text-anchor="middle">GMACs at {items[0][1].image_size}x{items[0][1].image_size}</text>')
    placed: list[Box] = []
    for name, m in sorted(items, key=lambda item: (-item[1].macs, item[0])):
        px, py = round(x(m.parameters), 1), round(y(m.macs), 1)
        lx, ly = _label_position(px, py, name, placed)
        parts.append(
            f'<g class="point" id="plot-{name}"><title>{name}: {m.parameters / 1e6:.2f} M parameters, '
            f'{m.macs / 1e9:.3f} GMACs</title><circle cx="{px}" cy="{py}" r="5"/>'
            f'<line class="leader" x1="{px}" y1="{py}" x2="{lx - 2}" y2="{ly - 4}"/>'
            f'<text x="{lx}" y="{ly}">{name}</text></g>'
        )
    parts.append("</svg>")
    return Markup("\n".join(parts))
