"""The family page's scatter plots (MACs against parameters, top-1 against GMACs, throughput
against top-1), as small inline SVGs.

Twelve points need no plotting library: the SVG is written directly, so it is byte-stable,
weighs a few kilobytes, and takes the page's colours (light and dark palettes) through CSS.
Each plot is drawn twice, for two frames: a wide one (720 px) and a narrow one (350 px) laid
out for a phone's column; the page's stylesheet shows one of them by a media query, so a
phone never sees a scaled-down or sideways-scrolled copy of the wide plot. In both, labels
are horizontal and placed by :mod:`dla_docs.render.labels` (clear of every marker and label,
nearest their own marker; where that is impossible, further out with leader lines, then as
numbers with a numbered key: a data value never stops the build). Markers closer than their
own size are nudged apart (the tooltips keep the exact figures), so none hides another; the
Pareto front is drawn as steps (the best top-1 within each cost) with a gap wherever it would
pass under a marker that is not on it; a legend says what each colour and shape means.

Optional *context* points (:class:`ContextPoint`: other model families, recorded figures)
are drawn as muted, labelled diamonds; they stay out of the DLA Pareto front.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from dla_docs.measure.facts import Measurement
from dla_docs.render.choose import pareto_front
from dla_docs.render.labels import NEAREST_MARGIN, Placed, arrange_labels, distance_to_box, text_width
from dla_docs.render.plot_layout import RADIUS, clear_of_front, front_steps, separate

FONT_SIZE = 12
LINE = 18  # legend row height


@dataclass(frozen=True)
class Frame:
    """One layout of a plot: its size and the margins around the plot area."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    suffix: str  # appended to the plot's element ids
    css: str  # dla-plot--wide or dla-plot--narrow: which screens show it

    @property
    def area(self) -> tuple[float, float, float, float]:
        return (self.left + 2, self.top + 2, self.width - self.right - 2, self.height - self.bottom - 2)


WIDE = Frame(720, 500, 70, 20, 34, 50, "", "wide")
NARROW = Frame(350, 430, 46, 10, 34, 62, "-narrow", "narrow")
WIDTH, HEIGHT = WIDE.width, WIDE.height  # the wide frame's size (as before the narrow one)


@dataclass(frozen=True)
class ContextPoint:
    """A model of another family, drawn as a muted context marker: its recorded ImageNet top-1
    (%), parameters (millions), GMACs and, when recorded, images per second on the machine of
    the throughput plot."""

    name: str
    top1: float
    params_m: float
    gmacs: float
    images_per_sec: float | None = None


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


def _bounds(values: list[float]) -> tuple[float, float]:
    return min(values) / 1.8, max(values) * 1.35  # room below the smallest for their labels


def _linear_bounds(values: list[float], step: float) -> tuple[float, float]:
    return math.floor(min(values) / step) * step - step / 2, math.ceil(max(values) / step) * step + step


def _marker(css: str, px: float, py: float) -> str:
    if "context" in css:  # a diamond: another family, never mistaken for a DLA variant
        r = RADIUS + 1
        return f'<path class="marker" d="M{px},{py - r:.1f} L{px + r:.1f},{py} L{px},{py + r:.1f} L{px - r:.1f},{py} Z"/>'
    return f'<circle cx="{px}" cy="{py}" r="{RADIUS}"/>'


def _point(css: str, dom_id: str, tip: str, px: float, py: float, label: Placed, name: str,
           others: Sequence[tuple[float, float]] = ()) -> str:
    """One marker with its label, and a leader line when the label sits off the marker or
    another marker is as near it."""
    leader = ""
    anchor = "" if label.anchor == "start" else f' text-anchor="{label.anchor}"'
    own = distance_to_box(px, py, label.box)
    if label.gap > 6 or any(distance_to_box(ox, oy, label.box) <= own + NEAREST_MARGIN for ox, oy in others):
        box = label.box
        tx, ty = min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])
        length = math.hypot(tx - px, ty - py)
        if length > RADIUS + 3:
            sx, sy = px + (tx - px) * (RADIUS + 1) / length, py + (ty - py) * (RADIUS + 1) / length
            ex, ey = tx - (tx - px) * 2 / length, ty - (ty - py) * 2 / length
            leader = f'<line class="leader" x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" y2="{ey:.1f}"/>'
    return (f'<g class="{css}" id="{dom_id}"><title>{tip}</title>{_marker(css, px, py)}'
            f'{leader}<text x="{label.x:.1f}" y="{label.y:.1f}"{anchor}>{label.text or name}</text></g>')


@dataclass(frozen=True)
class Point:
    name: str
    x: float
    y: float
    tip: str
    context: bool = False


def _wrap(text: str, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` at the plot's font size, broken at spaces."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(lines[-1] + " " + word, FONT_SIZE) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _legend(frame: Frame, top: float, front: bool, context: bool, key: list[tuple[str, str]]) -> tuple[list[str], float]:
    """The legend under the plot: what each colour and shape means, then the numbered key when
    labels had to be numbers. Returns its parts and its height."""
    items = []
    if front:
        items.append(("pareto", "on the Pareto front"))
        items.append(("point", "other DLA variant"))
    else:
        items.append(("point", "DLA variant"))
    if context:
        items.append(("context", "other family (recorded)"))
    parts = [f'<g class="legend" id="{{id}}-legend">']
    x, y = float(frame.left), top + LINE / 2
    for css, text in items:
        width = 2 * RADIUS + 6 + text_width(text, FONT_SIZE) + 16
        if x + width > frame.width - 4 and x > frame.left:
            x, y = float(frame.left), y + LINE
        if css == "pareto":
            parts.append(f'<line class="pareto" x1="{x - 3:.1f}" y1="{y}" x2="{x + 2 * RADIUS + 3:.1f}" y2="{y}"/>')
        marker_css = {"pareto": "point pareto", "point": "point", "context": "context"}[css]
        parts.append(f'<g class="{marker_css} key">{_marker(marker_css, round(x + RADIUS, 1), round(y, 1))}</g>')
        parts.append(f'<text x="{x + 2 * RADIUS + 6:.1f}" y="{y + 4:.1f}">{text}</text>')
        x += width
    if key:
        x, y = float(frame.left), y + LINE
    for number, name in key:
        text = f"{number} {name}"
        width = text_width(text, FONT_SIZE) + 14
        if x + width > frame.width - 4 and x > frame.left:
            x, y = float(frame.left), y + LINE
        parts.append(f'<text class="key" x="{x:.1f}" y="{y + 4:.1f}">{escape(text)}</text>')
        x += width
    parts.append("</g>")
    return parts, y + LINE / 2 - top


def _plot(frame: Frame, points: Sequence[Point], x_axis: tuple[float, float], y_axis: tuple[float, ...],
          plot_id: str, title: str, x_label: str, y_label: str, x_tick: Any, y_tick: Any, front: list[str]) -> str:
    """One frame of a plot. ``x_axis`` is a log range; ``y_axis`` a log range, or a linear
    range and its tick step."""
    f = frame
    x = LogAxis(*x_axis, f.left, f.width - f.right)
    y: Any = LinearAxis(y_axis[0], y_axis[1], f.height - f.bottom, f.top, y_axis[2]) if len(y_axis) == 3 else \
        LogAxis(*y_axis, f.height - f.bottom, f.top)
    pid = plot_id + f.suffix
    parts = [
        f'<svg class="dla-plot dla-plot--{f.css}" id="{pid}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{f.width}" height="{{height}}" viewBox="0 0 {f.width} {{height}}" role="img" '
        f'aria-labelledby="{pid}-title">',
        f'<title id="{pid}-title">{title}</title>',
        f'<rect class="frame" x="{f.left}" y="{f.top}" width="{f.width - f.left - f.right}" '
        f'height="{f.height - f.top - f.bottom}"/>',
    ]
    last_right = -math.inf
    for tick in x.ticks():
        px = round(x(tick), 1)
        label = x_tick(tick)
        half = text_width(label, FONT_SIZE) / 2
        parts.append(f'<line class="grid" x1="{px}" y1="{f.top}" x2="{px}" y2="{f.height - f.bottom}"/>')
        if px - half > last_right + 4:  # a tick label that would touch the previous one is left out
            parts.append(f'<text class="tick" x="{px}" y="{f.height - f.bottom + 18}" text-anchor="middle">{label}</text>')
            last_right = px + half
    for tick in y.ticks():
        py = round(y(tick), 1)
        parts.append(f'<line class="grid" x1="{f.left}" y1="{py}" x2="{f.width - f.right}" y2="{py}"/>')
        parts.append(f'<text class="tick" x="{f.left - 6}" y="{py + 4}" text-anchor="end">{y_tick(tick)}</text>')
    lines = _wrap(x_label, f.width - 8)
    for i, line in enumerate(lines):
        parts.append(f'<text class="axis" x="{(f.left + f.width - f.right) / 2}" '
                     f'y="{f.height - f.bottom + 38 + LINE * i}" text-anchor="middle">{line}</text>')
    parts.append(f'<text class="axis" x="{max(f.left - 40, 4)}" y="{f.top - 12}">{y_label}</text>')
    raw = {p.name: (x(p.x), y(p.y)) for p in points}
    where = separate(raw, f.area)
    for _ in range(6 if len(front) > 1 else 0):  # apart from each other and off the front line, both
        cleared = separate(clear_of_front(where, front), f.area)
        if cleared == where:
            break
        where = cleared
    if len(front) > 1:
        path = front_steps([where[n] for n in front], [where[p.name] for p in points if p.name not in front])
        parts.append(f'<path class="pareto" fill="none" d="{path}"/>')
    labels = arrange_labels([(p.name, *where[p.name]) for p in points], f.area, FONT_SIZE, RADIUS)
    for p in points:
        px, py = where[p.name]
        css = "context" if p.context else "point pareto" if p.name in front else "point"
        dom_id = f"{plot_id}-{p.name}{f.suffix}" if plot_id != "dla-plot-macs-params" else f"plot-{p.name}{f.suffix}"
        others = [where[o.name] for o in points if o.name != p.name]
        parts.append(_point(css, dom_id, p.tip, px, py, labels[p.name], p.name, others))
    key = [(labels[p.name].text, p.name) for p in points if labels[p.name].text]
    legend, height = _legend(f, f.height + 2, bool(front), any(p.context for p in points), key)
    parts += [part.replace("{id}", pid) for part in legend]
    parts.append("</svg>")
    total = math.ceil(f.height + 2 + height + 4)
    return "\n".join(parts).replace("{height}", str(total))


def _both(*args: Any, **kwargs: Any) -> Markup:
    """The plot in its wide and its narrow frame (the stylesheet shows one)."""
    return Markup("\n".join(_plot(frame, *args, **kwargs) for frame in (WIDE, NARROW)))


def macs_vs_parameters_svg(measurements: Mapping[str, Measurement],
                           context: Sequence[ContextPoint] = ()) -> Markup:
    """Scatter plot (log-log) of GMACs against millions of parameters, one labelled point each."""
    items = list(measurements.items())
    size = items[0][1].image_size
    points = [Point(name, m.parameters / 1e6, m.macs / 1e9,
                    f"{name}: {m.parameters / 1e6:.2f} M parameters, {m.macs / 1e9:.3f} GMACs") for name, m in items]
    points += [Point(c.name, c.params_m, c.gmacs, f"{c.name} (another family): {c.params_m:.2f} M parameters, "
                     f"{c.gmacs:.3f} GMACs (recorded)", True) for c in context]
    return _both(points, _bounds([p.x for p in points]), _bounds([p.y for p in points]), "dla-plot-macs-params",
                 "MACs against parameters for the DLA family (log-log)", "parameters (millions)",
                 f"GMACs at {size}x{size}", lambda t: f"{t:g}", lambda t: f"{t:g}", [])


def top1_vs_macs_svg(measurements: Mapping[str, Measurement], top1: Mapping[str, float],
                     context: Sequence[ContextPoint] = ()) -> Markup:
    """ImageNet top-1 (recorded) against measured GMACs (log), the Pareto front joined by a line."""
    names = [n for n in measurements if n in top1]
    size = measurements[names[0]].image_size
    points = [Point(n, measurements[n].macs / 1e9, top1[n],
                    f"{n}: {top1[n]:.2f}% top-1, {measurements[n].macs / 1e9:.3f} GMACs") for n in names]
    front = pareto_front({p.name: (p.x, p.y) for p in points})
    points += [Point(c.name, c.gmacs, c.top1, f"{c.name} (another family): {c.top1:.2f}% top-1, "
                     f"{c.gmacs:.3f} GMACs (recorded)", True) for c in context]
    return _both(points, _bounds([p.x for p in points]), (*_linear_bounds([p.y for p in points], 2), 2),
                 "dla-plot-top1-macs", "ImageNet top-1 accuracy against GMACs for the DLA family",
                 f"GMACs at {size}x{size} (log scale)", "ImageNet top-1 (%)",
                 lambda t: f"{t:g}", lambda t: f"{t:g}", front)


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


def throughput_vs_top1_svg(recorded: Mapping[str, Any], context: Sequence[ContextPoint] = ()) -> dict[str, Any] | None:
    """Recorded images/s (log) against recorded top-1, on the one machine every variant was timed on.
    Context points are drawn where they have an ``images_per_sec`` (recorded on that machine)."""
    chosen = throughput_hardware(recorded)
    if chosen is None:
        return None
    points = []
    batch = precision = ""
    for name, r in recorded.items():
        if r.top1 is None:
            continue
        bench = next(b for b in r.benchmarks if b.source == chosen[0])
        batch, precision = str(bench.batch_size), bench.precision
        points.append(Point(name, bench.samples_per_sec, r.top1,
                            f"{name}: {bench.samples_per_sec:,.0f} images/s, {r.top1:.2f}% top-1"))
    front = pareto_front({p.name: (-p.x, p.y) for p in points})  # faster is better: cost = -speed
    points += [Point(c.name, c.images_per_sec, c.top1, f"{c.name} (another family): {c.images_per_sec:,.0f} "
                     f"images/s, {c.top1:.2f}% top-1 (recorded)", True) for c in context if c.images_per_sec]
    svg = _both(points, _bounds([p.x for p in points]), (*_linear_bounds([p.y for p in points], 2), 2),
                "dla-plot-throughput", "Recorded inference throughput against ImageNet top-1",
                f"images per second, {chosen[1]} (log scale)", "ImageNet top-1 (%)",
                lambda t: f"{t:g}", lambda t: f"{t:g}", front)
    return {"svg": svg, "hardware": chosen[1], "source": chosen[0], "batch": batch, "precision": precision}
