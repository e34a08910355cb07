"""Where the plots' markers and Pareto line go, in pixels (:mod:`dla_docs.render.plot`).

Markers closer than their own size are pushed apart (:func:`separate`); markers off the
Pareto front are moved just clear of its steps (:func:`clear_of_front`), so a near-tie never
sits on the line; the front is drawn as steps with a gap wherever it would still pass within
``CLEARANCE`` of another marker (:func:`front_steps`). The tooltips keep the exact figures.
"""

from __future__ import annotations

import math

RADIUS = 5  # a marker's radius
CLEARANCE = RADIUS + 4  # the front line stops this far from a marker that is not on it
SEPARATION = 2 * RADIUS + 2  # markers' centres at least this far apart: none hides another


def separate(where: dict[str, tuple[float, float]], area: tuple[float, float, float, float],
             distance: float = SEPARATION) -> dict[str, tuple[float, float]]:
    """The markers moved apart where two centres are closer than ``distance``: each of a close
    pair pushed away from the other by half the shortfall (sideways when they coincide), kept
    inside ``area``; a few rounds settle a cluster. Deterministic: pairs in name order."""
    out = {name: [float(x), float(y)] for name, (x, y) in where.items()}
    names = sorted(out)
    for _ in range(60):
        moved = False
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                (ax, ay), (bx, by) = out[a], out[b]
                d = math.hypot(bx - ax, by - ay)
                if d >= distance - 0.05:
                    continue
                ux, uy = ((bx - ax) / d, (by - ay) / d) if d > 1e-6 else (1.0, 0.0)
                push = (distance - d) / 2 + 0.05
                out[a] = [ax - ux * push, ay - uy * push]
                out[b] = [bx + ux * push, by + uy * push]
                moved = True
        for point in out.values():
            point[0] = min(max(point[0], area[0] + RADIUS), area[2] - RADIUS)
            point[1] = min(max(point[1], area[1] + RADIUS), area[3] - RADIUS)
        if not moved:
            break
    return {name: (round(x, 1), round(y, 1)) for name, (x, y) in out.items()}


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


def _nearest_on(corners: list[tuple[float, float]], px: float, py: float) -> tuple[float, float]:
    best, found = math.inf, corners[0]
    for (ax, ay), (bx, by) in zip(corners, corners[1:]):
        length2 = (bx - ax) ** 2 + (by - ay) ** 2
        t = 0.0 if length2 == 0 else min(max(((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length2, 0.0), 1.0)
        qx, qy = ax + t * (bx - ax), ay + t * (by - ay)
        d = math.hypot(px - qx, py - qy)
        if d < best:
            best, found = d, (qx, qy)
    return found


def clear_of_front(where: dict[str, tuple[float, float]], front: list[str]) -> dict[str, tuple[float, float]]:
    """Markers off the front moved just clear of its steps (``CLEARANCE`` and a little more),
    away from the nearest point of the line (downwards where they sit on it): a near-tie drawn
    on the line would read as a front point. The tooltips keep the exact figures."""
    corners = [where[front[0]]]
    for (x0, y0), (x1, y1) in zip([where[n] for n in front], [where[n] for n in front[1:]]):
        corners += [(x1, y0), (x1, y1)]
    out = dict(where)
    for name, (px, py) in where.items():
        if name in front:
            continue
        qx, qy = _nearest_on(corners, px, py)
        d = math.hypot(px - qx, py - qy)
        if d >= CLEARANCE + 0.5:
            continue
        ux, uy = ((px - qx) / d, (py - qy) / d) if d > 1e-6 else (0.0, 1.0)
        out[name] = (round(qx + ux * (CLEARANCE + 0.6), 1), round(qy + uy * (CLEARANCE + 0.6), 1))
    return out
