"""Label placement for the scatter plots: every label clear of every marker and label, and
nearer its own marker than any other.

Pure geometry on pixel boxes. Text is measured with DejaVu Sans's advance widths (the font
the plots ask for first; most fallbacks are narrower, so a box measured here holds the text
drawn in them too), so placement needs no font file and is the same on every machine.

Each label tries candidate places around its marker, nearest first (right, left, above,
below, then the diagonals, each at growing distance); a place must stay inside the plot
area, clear every marker and every label already placed, and be nearer its own marker than
any other marker by a margin. Points are placed most-crowded first, with backtracking, so
the result is a deterministic function of the points.

:func:`arrange_labels` never fails: where no arrangement obeys every rule (a crowded plot, a
narrow one, an outlying data value), it degrades in steps -- labels further out with leader
lines and without the nearest-marker rule, then every label replaced by its point's number
(``Placed.text``) for a numbered key beside the plot, then numbers placed as near as the
area allows. Each step's search is bounded, so a hopeless arrangement costs milliseconds.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

# DejaVu Sans advance widths (units per em: 1000) for the characters of variant names.
_ADVANCE = {
    **dict.fromkeys("0123456789", 636), "a": 613, "b": 635, "c": 550, "d": 635, "e": 615, "f": 352, "g": 635,
    "h": 634, "i": 278, "j": 278, "k": 579, "l": 278, "m": 974, "n": 634, "o": 612, "p": 635, "q": 635, "r": 411,
    "s": 521, "t": 392, "u": 634, "v": 592, "w": 818, "x": 592, "y": 592, "z": 525, "_": 500, "-": 361, ".": 318,
}
WIDE = 1000  # any other character: a full em, never narrower than the glyph drawn
# The font's line box around the baseline, as a browser measures a text's box (getBBox):
# DejaVu Sans's ascent and descent, in ems.
ASCENT, DESCENT = 0.928, 0.236

Box = tuple[float, float, float, float]  # left, top, right, bottom


def text_width(text: str, size: float) -> float:
    return sum(_ADVANCE.get(c, WIDE) for c in text) * size / 1000


@dataclass(frozen=True)
class Placed:
    """A label's box and where its text is anchored: ``x`` at the side facing the marker
    (``anchor``: start, middle or end), ``y`` on the baseline; so the edge nearest the marker
    is exact whatever the font's widths."""

    box: Box
    x: float
    y: float
    anchor: str
    gap: float  # pixels between the marker's edge and the box
    upright: bool = False  # the text runs upwards (rotated -90 degrees about its anchor)
    text: str = ""  # what is drawn when it is not the point's own name: its number in a key


def distance_to_box(px: float, py: float, box: Box) -> float:
    dx = max(box[0] - px, 0.0, px - box[2])
    dy = max(box[1] - py, 0.0, py - box[3])
    return math.hypot(dx, dy)


def boxes_overlap(a: Box, b: Box, pad: float = 0.0) -> bool:
    return a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]


_DIRECTIONS = ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 1), (-1, -1), (-1, 1))
_GAPS = (3, 7, 12, 18, 26, 36, 48)
_FAR_GAPS = _GAPS + (64, 84, 110)  # the relaxed step: further out, joined by leader lines
LEADER_GAP = 10.0  # px between marker and label from which a leader line joins them (relaxed step)
NEAREST_MARGIN = 2.0  # px a label must be nearer its own marker (a browser's text box differs by a little)
_BUDGET = 20_000  # choices tried per search before it gives up (a hopeless search is exponential)


class _OutOfBudget(Exception):
    pass


Candidate = tuple[Box, bool]  # the box, and whether the text runs upwards (rotated a quarter turn)


@functools.cache
def _order(gaps: int, upright: bool) -> tuple[tuple[int, int, int, int], ...]:
    """The candidates' places around a marker, nearest and most conventional first (see
    :func:`_candidates`), as ``(gap index, direction index, shift index, kind)``; kind 0: beside,
    above or below; 1: a diagonal; 2: upright. The order depends on nothing else, so it is
    sorted once."""
    out = []
    for gi in range(gaps):
        for di, (dx, dy) in enumerate(_DIRECTIONS):
            if dx and dy:
                out.append((gi * 100 + di * 10, (gi, di, 0, 1)))
                continue
            out += [(gi * 100 + di * 10 + si, (gi, di, si, 0)) for si in range(len(_SHIFTS))]
        for dy in (-1, 1) if upright else ():
            out += [(10_000 + gi * 10 + (dy > 0) * 5 + si, (gi, dy, si, 2)) for si in range(len(_UPRIGHT_SHIFTS))]
    return tuple(place for _, place in sorted(out))


_SHIFTS = (0.5, 0.2, 0.8, 0.35, 0.65, 0.05, 0.95)
_UPRIGHT_SHIFTS = (0.5, 0.85, 0.15)


def _candidates(px: float, py: float, width: float, height: float, radius: float,
                gaps: Sequence[float] = _GAPS, upright: bool = True) -> list[Candidate]:
    """Boxes around the marker, nearest and most conventional first: beside it (centred, then
    hanging down or standing up from its centre line), above or below it (centred, then
    flush left or right with it), then on the diagonals, each at the gaps of ``_GAPS``; and
    last, for a marker with close neighbours on both sides, the text turned to run upwards
    above or below it."""
    out: list[Candidate] = []
    for gi, di, si, kind in _order(len(gaps), upright):
        reach = radius + gaps[gi]
        if kind == 2:  # upright text: the box is ``height`` wide and ``width`` tall
            top = py - reach - width if di < 0 else py + reach
            left = px - height * _UPRIGHT_SHIFTS[si]
            out.append(((left, top, left + height, top + width), True))
            continue
        dx, dy = _DIRECTIONS[di]
        if kind == 1:  # a diagonal: the box's corner sits on the circle of that reach
            corner = reach / math.sqrt(2)
            left = px + corner if dx > 0 else px - corner - width
            top = py + corner if dy > 0 else py - corner - height
        elif dx:
            left = px + reach if dx > 0 else px - reach - width
            top = py - height * _SHIFTS[si]
        else:
            left = px - width * _SHIFTS[si]
            top = py + reach if dy > 0 else py - reach - height
        out.append(((left, top, left + width, top + height), False))
    return out


def _solve(options: dict[str, list[Candidate]], pad: float, budget: list[int] | None = None,
           hulls: dict[str, Box] | None = None) -> dict[str, Candidate] | None:
    """Pick one box per label, no two overlapping: the label with the fewest boxes left goes
    first (ties by name), and a choice that leaves another label without a box is undone.
    ``budget`` (one counter, shared down the recursion) bounds the choices tried. ``hulls``
    bound each label's boxes (taken once, at the top): a label whose hull a choice does not
    touch keeps its boxes as they are, unfiltered."""
    if not options:
        return {}
    if hulls is None:
        hulls = {text: (min(c[0][0] for c in boxes), min(c[0][1] for c in boxes),
                        max(c[0][2] for c in boxes), max(c[0][3] for c in boxes))
                 for text, boxes in options.items() if boxes}
    text = min(options, key=lambda t: (len(options[t]), t))
    for choice in options[text]:
        if budget is not None:
            budget[0] -= 1
            if budget[0] < 0:
                raise _OutOfBudget
        left, top, right, bottom = choice[0]  # boxes_overlap(choice[0], c[0], pad), inlined: the hot loop
        rest = {}
        for other, candidates in options.items():
            if other == text:
                continue
            hull = hulls[other]
            if not (left - pad < hull[2] and hull[0] - pad < right and top - pad < hull[3] and hull[1] - pad < bottom):
                rest[other] = candidates  # no box of it is near this one
                continue
            rest[other] = [c for c in candidates if not (left - pad < c[0][2] and c[0][0] - pad < right
                                                         and top - pad < c[0][3] and c[0][1] - pad < bottom)]
        if all(rest.values()):
            found = _solve(rest, pad, budget, hulls)
            if found is not None:
                return {text: choice, **found}
    return None


def _options(points: Sequence[tuple[str, float, float]], texts: dict[str, str], area: Box, size: float,
             radius: float, margin: float | None, pad: float, gaps: Sequence[float], upright: bool
             ) -> dict[str, list[Candidate]]:
    """Every allowed box per point: inside ``area``, clear of every other marker by
    ``radius + pad`` and, unless ``margin`` is None, nearer its own marker by ``margin``;
    up to the first point that has none (no arrangement exists then).

    Each test against the other markers first skips those that a bounding box puts beyond
    reach (:func:`_clear`, :func:`_leader_clear`), so the exact distance is computed only for
    the few close ones: the same answer as measuring every marker, in a fraction of the time.
    """
    height = (ASCENT + DESCENT) * size
    low_x, low_y, high_x, high_y = area
    apart = radius + pad
    options: dict[str, list[Candidate]] = {}
    for name, px, py in points:
        others = sorted((ox, oy) for other, ox, oy in points if other != name)
        xs = [ox for ox, _ in others]
        fits = []
        for box, up in _candidates(px, py, text_width(texts[name], size), height, radius, gaps, upright):
            left, top, right, bottom = box
            if left < low_x or top < low_y or right > high_x or bottom > high_y:
                continue
            own = distance_to_box(px, py, box)
            floor = apart if margin is None else max(apart, own + margin)
            if not _clear(others, xs, box, floor):
                continue
            if margin is None and own < radius + LEADER_GAP and not _clear(others, xs, box, own + NEAREST_MARGIN):
                continue  # beside its marker: nearest it
            if margin is None:  # its leader line (marker to the box's nearest point) passes no other marker
                tx, ty = min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])
                if not _leader_clear(others, xs, px, py, tx, ty, radius + 1):
                    continue
            fits.append((box, up))
        options[name] = fits
        if not fits:
            break  # a label without a place: this step fails (see _attempt), whatever the others have
    return options


_SLACK = 1e-6  # px: a marker this much beyond a bounding box's reach is skipped, whatever the rounding


def _clear(others: Sequence[tuple[float, float]], xs: Sequence[float], box: Box, floor: float) -> bool:
    """Whether every marker of ``others`` (sorted, their ``xs`` apart) is at least ``floor``
    from ``box``. A marker outside the box grown by ``floor`` (and a little slack) is that far
    along one axis alone, so only the markers inside it are measured, found by bisection."""
    reach = floor + _SLACK
    top, bottom = box[1] - reach, box[3] + reach
    for ox, oy in others[bisect_right(xs, box[0] - reach):bisect_left(xs, box[2] + reach)]:
        if top < oy < bottom and distance_to_box(ox, oy, box) < floor:
            return False
    return True


def _leader_clear(others: Sequence[tuple[float, float]], xs: Sequence[float], ax: float, ay: float, bx: float,
                  by: float, floor: float) -> bool:
    """Whether every marker of ``others`` (sorted, their ``xs`` apart) is at least ``floor`` from
    the segment ``a``-``b`` (only those inside the segment's bounding box grown by ``floor`` are
    measured)."""
    reach = floor + _SLACK
    top, bottom = min(ay, by) - reach, max(ay, by) + reach
    for ox, oy in others[bisect_right(xs, min(ax, bx) - reach):bisect_left(xs, max(ax, bx) + reach)]:
        if top < oy < bottom and _to_segment(ox, oy, ax, ay, bx, by) < floor:
            return False
    return True


def _to_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    length2 = (bx - ax) ** 2 + (by - ay) ** 2
    t = 0.0 if length2 == 0 else min(max(((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length2, 0.0), 1.0)
    return math.hypot(px - ax - t * (bx - ax), py - ay - t * (by - ay))


def _attempt(options: dict[str, list[Candidate]], spacing: float) -> dict[str, Candidate] | None:
    if not all(options.values()):
        return None
    try:
        return _solve(options, spacing, [_BUDGET])
    except _OutOfBudget:
        return None


def _greedy(points: Sequence[tuple[str, float, float]], texts: dict[str, str], area: Box, size: float,
            radius: float) -> dict[str, Candidate]:
    """The last resort: each label in turn at its first box inside the area that overlaps no
    label placed before it, else at its first box inside the area; always an answer."""
    height = (ASCENT + DESCENT) * size
    chosen: dict[str, Candidate] = {}
    for name, px, py in points:
        inside = []
        for box, up in _candidates(px, py, text_width(texts[name], size), height, radius, _FAR_GAPS, False):
            if box[0] >= area[0] and box[1] >= area[1] and box[2] <= area[2] and box[3] <= area[3]:
                inside.append((box, up))
        clear = [c for c in inside if not any(boxes_overlap(c[0], o[0], 1.0) for o in chosen.values())]
        if clear or inside:
            chosen[name] = (clear or inside)[0]
            continue
        width = text_width(texts[name], size)  # no box inside the area: one clamped into it
        left = min(max(px + radius, area[0]), area[2] - width)
        top = min(max(py - height / 2, area[1]), area[3] - height)
        chosen[name] = ((left, top, left + width, top + height), False)
    return chosen


def _placed(points: Sequence[tuple[str, float, float]], chosen: dict[str, Candidate], size: float,
            radius: float, texts: dict[str, str] | None = None) -> dict[str, Placed]:
    out = {}
    for name, px, py in points:
        box, upright = chosen[name]
        gap = max(distance_to_box(px, py, box) - radius, 0.0)
        text = texts[name] if texts and texts[name] != name else ""
        if upright:  # rotated -90 degrees about (x, y): the text starts at its lower end
            x = box[0] + ASCENT * size
            out[name] = Placed(box, x, box[3], "start", gap, True, text) if box[3] < py else \
                Placed(box, x, box[1], "end", gap, True, text)
        elif box[0] > px:
            out[name] = Placed(box, box[0], box[1] + ASCENT * size, "start", gap, text=text)
        elif box[2] < px:
            out[name] = Placed(box, box[2], box[1] + ASCENT * size, "end", gap, text=text)
        else:
            out[name] = Placed(box, (box[0] + box[2]) / 2, box[1] + ASCENT * size, "middle", gap, text=text)
    return out


def place_labels(points: Sequence[tuple[str, float, float]], area: Box, size: float, radius: float,
                 margin: float = 0.5, pad: float = 2.0, spacing: float = 6.0, upright: bool = True
                 ) -> dict[str, Placed]:
    """A place for the label of every ``(text, x, y)`` point inside ``area`` (see the module doc).

    Raises ``ValueError`` when no arrangement satisfies every rule; :func:`arrange_labels`
    degrades instead.
    """
    texts = {name: name for name, _, _ in points}
    chosen = _attempt(_options(points, texts, area, size, radius, margin, pad, _GAPS, upright), spacing)
    if chosen is None:
        raise ValueError("no label placement keeps every label clear and nearest its own marker")
    return _placed(points, chosen, size, radius)


def arrange_labels(points: Sequence[tuple[str, float, float]], area: Box, size: float, radius: float,
                   pad: float = 2.0, spacing: float = 6.0) -> dict[str, Placed]:
    """Horizontal labels for every point, never failing (see the module doc): the strict
    rules; then further out with leader lines, without the nearest-marker rule; then each
    label replaced by its point's number (1, 2, ... in the order given), for a numbered key;
    then the numbers as near their markers as the area allows, overlapping if they must."""
    names = {name: name for name, _, _ in points}
    for texts, margin, gaps in ((names, NEAREST_MARGIN, _GAPS), (names, None, _GAPS)):
        chosen = _attempt(_options(points, texts, area, size, radius, margin, pad, gaps, False), spacing)
        if chosen is not None:
            return _placed(points, chosen, size, radius)
    numbers = {name: str(i) for i, (name, _, _) in enumerate(points, 1)}
    for margin, gaps in ((NEAREST_MARGIN, _GAPS), (None, _FAR_GAPS)):
        chosen = _attempt(_options(points, numbers, area, size, radius, margin, pad, gaps, False), spacing)
        if chosen is not None:
            return _placed(points, chosen, size, radius, numbers)
    return _placed(points, _greedy(points, numbers, area, size, radius), size, radius, numbers)
