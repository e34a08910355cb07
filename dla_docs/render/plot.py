"""The family page's scatter plots (MACs against parameters, top-1 against GMACs, throughput
against top-1), as small inline SVGs.

Twelve points need no plotting library: the SVG is written directly, so it is byte-stable,
weighs a few kilobytes, and takes the page's colours (light and dark palettes) through CSS.
Labels are placed by :mod:`dla_docs.render.labels` (clear of every marker and label, nearest
their own marker); the Pareto front is drawn as steps (the best top-1 within each cost) and
left out where it would pass under a variant that is not on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from dla_docs.measure.facts import Measurement
from dla_docs.render.choose import pareto_front
from dla_docs.render.labels import Placed, place_labels

WIDTH, HEIGHT = 720, 520
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 50
FONT_SIZE, RADIUS = 12, 5
CLEARANCE = RADIUS + 4  # the front line stops this far from a marker that is not on it


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


def _labels(points: dict[str, tuple[float, float]]) -> dict[str, Placed]:
    area = (LEFT + 2, TOP + 2, WIDTH - RIGHT - 2, HEIGHT - BOTTOM - 2)
    return place_labels([(name, px, py) for name, (px, py) in points.items()], area, FONT_SIZE, RADIUS)


def _point(css: str, dom_id: str, tip: str, px: float, py: float, label: Placed, name: str) -> str:
    """One marker with its label, and a leader line when the label sits off the marker."""
    leader = ""
    anchor = "" if label.anchor == "start" else f' text-anchor="{label.anchor}"'
    if label.upright:
        anchor += f' transform="rotate(-90 {label.x:.1f} {label.y:.1f})"'
    if label.gap > 6:
        box = label.box
        tx, ty = min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])
        length = math.hypot(tx - px, ty - py)
        sx, sy = px + (tx - px) * (RADIUS + 1) / length, py + (ty - py) * (RADIUS + 1) / length
        ex, ey = tx - (tx - px) * 2 / length, ty - (ty - py) * 2 / length
        leader = f'<line class="leader" x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}"/>'
    return (f'<g class="{css}" id="{dom_id}"><title>{tip}</title><circle cx="{px}" cy="{py}" r="{RADIUS}"/>'
            f'{leader}<text x="{label.x:.1f}" y="{label.y:.1f}"{anchor}>{name}</text></g>')


def _bounds(values: list[float]) -> tuple[float, float]:
    return min(values) / 1.8, max(values) * 1.35  # room below the smallest for their labels


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
    where = {name: (round(x(m.parameters), 1), round(y(m.macs), 1)) for name, m in items}
    labels = _labels(where)
    for name, m in items:
        px, py = where[name]
        tip = f"{name}: {m.parameters / 1e6:.2f} M parameters, {m.macs / 1e9:.3f} GMACs"
        parts.append(_point("point", f"plot-{name}", tip, px, py, labels[name], name))
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
    # headroom above the best for labels set upright over a crowded top row
    return math.floor(min(values) / step) * step - step / 2, math.ceil(max(values) / step) * step + 1.5 * step


def front_steps(front: list[tuple[float, float]], others: list[tuple[float, float]]) -> str:
    """SVG path data of the front as steps (across at each point's accuracy, then up to the
    next), with a gap wherever it would pass within ``CLEARANCE`` of a marker in ``others``."""
    corners = [front[0]]
    for (x0, y0), (x1, y1) in zip(front, front[1:]):
        corners += [(x1, y0), (x1, y1)]
    pieces: list[list[tuple[float, float]]] = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:]):
        spans = [(0.0, 1.0)]
        length = math.hypot(bx - ax, by - ay)
        if length == 0:
            continue
        for cx, cy in others:  # cut out [t0, t1] where the segment is within CLEARANCE of (cx, cy)
            t = ((cx - ax) * (bx - ax) + (cy - ay) * (by - ay)) / length**2
            d = math.hypot(ax + t * (bx - ax) - cx, ay + t * (by - ay) - cy)
            if d >= CLEARANCE:
                continue
            half = math.sqrt(CLEARANCE**2 - d**2) / length
            cut = (t - half, t + half)
            spans = [piece for a, b in spans for piece in ((a, min(b, cut[0])), (max(a, cut[1]), b)) if piece[1] > piece[0]]
        for a, b in spans:
            start, end = (ax + a * (bx - ax), ay + a * (by - ay)), (ax + b * (bx - ax), ay + b * (by - ay))
            if pieces and a == 0.0 and pieces[-1][-1] == start:
                pieces[-1].append(end)
            else:
                pieces.append([start, end])
    return " ".join("M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in piece) for piece in pieces)


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
    where = {name: (round(x(vx), 1), round(y(vy), 1)) for name, (vx, vy, _) in points.items()}
    if len(front) > 1:
        path = front_steps([where[n] for n in front], [where[n] for n in points if n not in front])
        parts.append(f'<path class="pareto" fill="none" d="{path}"/>')
    labels = _labels(where)
    for name, (_, _, tip) in points.items():
        px, py = where[name]
        css = "point pareto" if name in front else "point"
        parts.append(_point(css, f"{plot_id}-{name}", tip, px, py, labels[name], name))
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
                   [(t, f"{t:g}") for t in x.ticks()], front)
    return {"svg": svg, "hardware": chosen[1], "source": chosen[0], "batch": batch, "precision": precision}
