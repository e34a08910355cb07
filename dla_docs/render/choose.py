"""Which variant to pick: the accuracy/cost front, picks within budgets, one verdict per card.

Pure functions over :class:`Option` (one per variant: recorded top-1 and top-5, measured
MACs, recorded throughput on one machine, the weights' licence); nothing here reads a
file or renders a page. The family page's "Which variant?" section, each card's verdict
line and the plots' Pareto fronts are all views of these results, so they cannot disagree.

Conventions (the oracle in ``tests/test_choose.py`` restates them by brute force):

- ``a`` *dominates* ``b`` on cost when ``a`` costs no more (``macs``) and is strictly more
  accurate (top-1); the *front* is the variants nothing dominates.
- A *budget* is a 1-2-5 figure (1, 2, 5, 10 ... GMACs; 2,000, 5,000, 10,000 ... images/s)
  within the family's range; the *pick* within it is the most accurate variant that fits
  (ties: the cheaper); budgets with the same pick as a smaller one are left out.
- The *next one up* from a pick is the cheapest variant beyond the budget that is more
  accurate than the pick (ties: the more accurate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

UNKNOWN_LICENCES = ("", "unknown", "other")


@dataclass(frozen=True)
class Option:
    """One variant as a reader choosing between them sees it."""

    name: str
    top1: float
    top5: float | None
    macs: int
    throughput: float | None  # recorded images/s on the family's common machine
    licence: str

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    @property
    def licence_known(self) -> bool:
        return self.licence.strip().casefold() not in UNKNOWN_LICENCES


@dataclass(frozen=True)
class Pick:
    """The most accurate variant within ``budget``; what is one step further, and its price."""

    budget: float
    best: Option
    known: Option | None    # the most accurate within budget whose licence is known, if ``best``'s is not
    next_up: Option | None  # the cheapest variant beyond the budget that is more accurate than ``best``


@dataclass(frozen=True)
class Verdict:
    """Where one variant stands on the accuracy/GMACs front."""

    option: Option
    dominated_by: Option | None  # the most accurate variant that is cheaper-or-equal and more accurate

    @property
    def on_front(self) -> bool:
        return self.dominated_by is None


def pareto_front(points: Mapping[str, tuple[float, float]]) -> list[str]:
    """Names no other point beats (none has lower-or-equal cost and a higher value), by cost."""
    front, best = [], -math.inf
    for name, (cost, value) in sorted(points.items(), key=lambda item: (item[1][0], -item[1][1], item[0])):
        if value > best:
            front.append(name)
            best = value
    return front


def budgets_125(low: float, high: float) -> list[float]:
    """1-2-5 figures from the first at or above ``low`` to the first at or above ``high``."""
    out: list[float] = []
    exponent = math.floor(math.log10(low))
    while not out or out[-1] < high:
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0**exponent
            if value >= low and (not out or out[-1] < high):
                out.append(value)
        exponent += 1
    return out


def _most_accurate(options: Sequence[Option], cost: Callable[[Option], float]) -> Option | None:
    return min(options, key=lambda o: (-o.top1, cost(o), o.name), default=None)


def picks(options: Sequence[Option], budgets: Sequence[float], cost: Callable[[Option], float]) -> list[Pick]:
    """For each budget (a bound on ``cost``), the pick, its licensed alternative and the next one up.

    ``cost`` maps an option to what the budget bounds: GMACs, or minus the throughput for a
    floor on images/s (then budgets are negative too).
    """
    out: list[Pick] = []
    for budget in budgets:
        within = [o for o in options if cost(o) <= budget]
        best = _most_accurate(within, cost)
        if best is None or (out and out[-1].best == best):
            continue
        known = None if best.licence_known else _most_accurate([o for o in within if o.licence_known], cost)
        beyond = [o for o in options if cost(o) > budget and o.top1 > best.top1]
        next_up = min(beyond, key=lambda o: (cost(o), -o.top1, o.name), default=None)
        out.append(Pick(budget, best, known, next_up))
    return out


def compute_picks(options: Sequence[Option]) -> list[Pick]:
    """Picks within 1-2-5 budgets of GMACs spanning the family."""
    gmacs = [o.gmacs for o in options]
    return picks(options, budgets_125(min(gmacs), max(gmacs)), lambda o: o.gmacs)


def throughput_picks(options: Sequence[Option]) -> list[Pick]:
    """Picks for 1-2-5 floors of recorded images/s, fastest floor first (budgets are the floors)."""
    timed = [o for o in options if o.throughput is not None]
    if not timed:
        return []
    speeds = [o.throughput for o in timed]
    series = budgets_125(min(speeds) / 10, max(speeds))
    lowest = max(b for b in series if b <= min(speeds))
    floors = sorted((b for b in series if lowest <= b <= max(speeds)), reverse=True)
    found = picks(timed, [-b for b in floors], lambda o: -o.throughput)
    return [Pick(-p.budget, p.best, p.known, p.next_up) for p in found]


def verdict(option: Option, options: Sequence[Option]) -> Verdict:
    """Whether ``option`` is on the accuracy/GMACs front, and if not, who beats it."""
    beaters = [o for o in options if o.macs <= option.macs and o.top1 > option.top1]
    return Verdict(option, _most_accurate(beaters, lambda o: o.macs))
