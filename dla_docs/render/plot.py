"""The family page's scatter plot of MACs against parameters, as a small inline SVG.

Twelve points need no plotting library: the SVG is written directly, so it is byte-stable,
weighs a few kilobytes, and takes the page's colours (light and dark palettes) through CSS.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from dataclasses import dataclass

from markupsafe import Markup

from dla_docs.measure.facts import Measurement

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


# -- accuracy views: top-1 against GMACs, recorded throughput against top-1 ------------------

@dataclass(frozen=True)
class LinearAxis:
    """A linear axis mapping ``[low, high]`` onto ``[start, end]`` pixels, ticks every ``step``."""

    low: float
    high: float
    start: float
    end: float
    step: float

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)

    def ticks(self) -> list[float]:
        first = math.ceil(self.low / self.step)
        return [i * self.step for i in range(first, math.floor(self.high / self.step) + 1)]


def _linear_bounds(values: list[float], step: float) -> tuple[float, float]:
    return math.floor(min(values) / step) * step - step / 2, math.ceil(max(values) / step) * step + step / 2


def pareto_front(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """Names no other point beats: none has both lower-or-equal cost (x) and higher value (y)."""
    front, best = [], -math.inf
    for name, (cost, value) in sorted(points.items(), key=lambda item: (item[1][0], -item[1][1], item[0])):
        if value > best:
            front.append(name)
            best = value
    return front


def _scatter(points: Mapping[str, tuple[float, float, str]], x: LogAxis, y: LinearAxis, plot_id: str,
             title: str, x_label: str, y_label: str, x_ticks: list[tuple[float, str]], front: list[str]) -> Markup:
    parts = [
        f'<svg class="dla-plot" id="{plot_id}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{plot_id}-title">',
        f'<title id="{plot_id}-title">{title}</title>',
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}"/>',
    ]
    for tick, label in x_ticks:
        px = round(x(tick), 1)
        parts.append(f'<line class="grid" x1="{px}" y1="{TOP}" x2="{px}" y2="{HEIGHT - BOTTOM}"/>')
        parts.append(f'<text class="tick" x="{px}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{label}</text>')
    for tick in y.ticks():
        py = round(y(tick), 1)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{py}" x2="{WIDTH - RIGHT}" y2="{py}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 8}" y="{py + 4}" text-anchor="end">{tick:g}</text>')
    parts.append(f'<text class="axis" x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 10}" '
                 f'text-anchor="middle">{x_label}</text>')
    parts.append(f'<text class="axis" transform="translate(18 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" '
                 f'text-anchor="middle">{y_label}</text>')
    if len(front) > 1:
        path = " ".join(f"{round(x(points[n][0]), 1)},{round(y(points[n][1]), 1)}" for n in front)
        parts.append(f'<polyline class="leader pareto" fill="none" points="{path}"/>')
    placed: list[Box] = []
    for name, (vx, vy, tip) in sorted(points.items(), key=lambda item: (-item[1][1], item[0])):
        px, py = round(x(vx), 1), round(y(vy), 1)
        lx, ly = _label_position(px, py, name, placed)
        css = "point pareto" if name in front else "point"
        parts.append(
            f'<g class="{css}" id="{plot_id}-{name}"><title>{tip}</title><circle cx="{px}" cy="{py}" r="5"/>'
            f'<line class="leader" x1="{px}" y1="{py}" x2="{lx - 2}" y2="{ly - 4}"/>'
            f'<text x="{lx}" y="{ly}">{name}</text></g>')
    parts.append("</svg>")
    return Markup("\n".join(parts))


def top1_vs_macs_svg(measurements: Mapping[str, Measurement], top1: Mapping[str, float]) -> Markup:
    """ImageNet top-1 (recorded) against measured GMACs (log), the Pareto front joined by a line."""
    names = [n for n in measurements if n in top1]
    size = measurements[names[0]].image_size
    points = {n: (measurements[n].macs, top1[n], f"{n}: {top1[n]:.2f}% top-1, {measurements[n].macs / 1e9:.3f} GMACs")
              for n in names}
    x = LogAxis(*_bounds([p[0] for p in points.values()]), LEFT, WIDTH - RIGHT)
    y = LinearAxis(*_linear_bounds([p[1] for p in points.values()], 2), HEIGHT - BOTTOM, TOP, 2)
    front = pareto_front({n: (p[0], p[1]) for n, p in points.items()})
    return _scatter(points, x, y, "dla-plot-top1-macs", "ImageNet top-1 accuracy against GMACs for the DLA family",
                    f"GMACs at {size}x{size} (log scale)", "ImageNet top-1 (%)",
                    [(t, _tick_label(t, 1e9)) for t in x.ticks()], front)


def throughput_hardware(recorded: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (source file, hardware) every variant has a recorded throughput for, the first listed."""
    sources: list[tuple[str, str]] = []
    for r in recorded.values():
        for b in r.benchmarks:
            if (b.source, b.hardware) not in sources:
                sources.append((b.source, b.hardware))
    for source in sources:
        if all(any(b.source == source[0] for b in r.benchmarks) for r in recorded.values()):
            return source
    return None


def throughput_vs_top1_svg(recorded: Mapping[str, Any]) -> dict[str, Any] | None:
    """Recorded images/s (log) against recorded top-1, on the one machine every variant was timed on."""
    chosen = throughput_hardware(recorded)
    if chosen is None:
        return None
    points = {}
    batch = precision = ""
    for name, r in recorded.items():
        if r.top1 is None:
            continue
        bench = next(b for b in r.benchmarks if b.source == chosen[0])
        batch, precision = str(bench.batch_size), bench.precision
        points[name] = (bench.samples_per_sec, r.top1,
                        f"{name}: {bench.samples_per_sec:,.0f} images/s, {r.top1:.2f}% top-1")
    x = LogAxis(*_bounds([p[0] for p in points.values()]), LEFT, WIDTH - RIGHT)
    y = LinearAxis(*_linear_bounds([p[1] for p in points.values()], 2), HEIGHT - BOTTOM, TOP, 2)
    front = pareto_front({n: (-p[0], p[1]) for n, p in points.items()})  # faster is better: cost = -speed
    svg = _scatter(points, x, y, "dla-plot-throughput", "Recorded inference throughput against ImageNet top-1",
                   f"images per second, {chosen[1]} (log scale)", "ImageNet top-1 (%)",
                   [(t, f"{t:g}") for t in x.ticks()], list(reversed(front)))
    return {"svg": svg, "hardware": chosen[1], "source": chosen[0], "batch": batch, "precision": precision}
