"""Which variant to pick: the accuracy/cost front, picks within budgets, one verdict per card.

Pure functions over :class:`Option` (one per variant: recorded top-1 and top-5, measured
MACs, recorded throughput on one machine, the weights' licence); nothing here reads a
file or renders a page. The family page's "Which variant?" section, each card's verdict
line and the plots' Pareto fronts are all views of these results, so they cannot disagree.

Conventions (the oracle in ``tests/test_choose.py`` restates them by brute force):

- Two top-1 figures *tie* (are *on par*) when they differ by no more than the evaluation
  can resolve: one standard error of a top-1 figure on the 50,000 ImageNet validation
  images, ``sqrt(p(1-p)/n)`` at their mean accuracy ``p`` (:func:`resolution`; 0.185 points at
  78%). A figure *beats* another only by more than that.
- ``a`` *dominates* ``b`` on cost when ``a`` costs no more (``macs``) and beats it; the
  *front* is the variants nothing dominates. A variant tied with a cheaper one is *on par*
  with it, never dominated (:class:`Verdict`).
- A *budget* is a 1-2-5 figure (1, 2, 5, 10 ... GMACs; 2,000, 5,000, 10,000 ... images/s)
  within the family's range; the *pick* within it is, among the variants that fit and tie
  with the most accurate of them, the one with a known licence, then the cheapest (fewest
  GMACs, or the fastest for a throughput floor), then the more accurate; the others tied
  with it are named *on par*. Budgets with the same pick as a smaller one are left out.
- The *next one up* from a pick is the cheapest variant beyond the budget that beats the
  pick (ties: the more accurate).
- :func:`pareto_front` (the plots' line) compares figures exactly, as drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

UNKNOWN_LICENCES = ("", "unknown", "other")
IMAGENET_VALIDATION_IMAGES = 50_000  # the test set of every top-1 compared here


def resolution(top1_a: float, top1_b: float, images: int = IMAGENET_VALIDATION_IMAGES) -> float:
    """One standard error of a top-1 figure (in points) at the mean of ``top1_a`` and ``top1_b``
    (percent): ``100 * sqrt(p(1-p)/n)``. About 0.185 points at 78% on 50,000 images."""
    p = min(max((top1_a + top1_b) / 200, 0.0), 1.0)
    return 100 * math.sqrt(p * (1 - p) / images)


def tied(a: float, b: float) -> bool:
    """Whether top-1 figures ``a`` and ``b`` (percent) are within the evaluation's resolution."""
    return abs(a - b) <= resolution(a, b)


def beats(a: "Option", b: "Option") -> bool:
    """``a`` is more accurate than ``b`` by more than the evaluation resolves."""
    return a.top1 > b.top1 and not tied(a.top1, b.top1)


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
    next_up: Option | None  # the cheapest variant beyond the budget that beats ``best``
    on_par: tuple[Option, ...] = ()  # the others within budget tied with ``best`` (the pick's reason: ``why``)
    why: str = ""                    # why ``best`` was picked over ``on_par``: "cost", "licence" or "accuracy"


@dataclass(frozen=True)
class Verdict:
    """Where one variant stands on the accuracy/GMACs front."""

    option: Option
    dominated_by: Option | None  # the most accurate variant that costs no more and beats it
    on_par: tuple[Option, ...] = ()  # variants tied with it that cost less, cheapest first
    picked: tuple[str, ...] = ()     # where "Which variant?" picks it anyway (see :func:`named_in`)

    @property
    def on_front(self) -> bool:
        """Nothing dominates it and nothing cheaper ties with it."""
        return self.dominated_by is None and not self.on_par


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
    """Among the options tied with the most accurate: a known licence, then the cheapest, then the most accurate."""
    top = max(options, key=lambda o: o.top1, default=None)
    if top is None:
        return None
    level = [o for o in options if tied(o.top1, top.top1)]
    return min(level, key=lambda o: (not o.licence_known, cost(o), -o.top1, o.name))


def _why(best: Option, on_par: Sequence[Option], cost: Callable[[Option], float]) -> str:
    if not on_par:
        return ""
    if best.licence_known and not all(o.licence_known for o in on_par):
        return "licence"
    if all(cost(best) < cost(o) for o in on_par):
        return "cost"
    return "accuracy"


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
        beyond = [o for o in options if cost(o) > budget and beats(o, best)]
        next_up = min(beyond, key=lambda o: (cost(o), -o.top1, o.name), default=None)
        on_par = tuple(sorted((o for o in within if o != best and tied(o.top1, best.top1)),
                              key=lambda o: (cost(o), o.name)))
        out.append(Pick(budget, best, known, next_up, on_par, _why(best, on_par, cost)))
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
    return [Pick(-p.budget, p.best, p.known, p.next_up, p.on_par, p.why) for p in found]


def verdict(option: Option, options: Sequence[Option]) -> Verdict:
    """Whether ``option`` is on the accuracy/GMACs front; if not, who beats it, or who is on par and cheaper."""
    beaters = [o for o in options if o.macs <= option.macs and beats(o, option)]
    best = max(beaters, key=lambda o: (o.top1, -o.macs), default=None)
    on_par = tuple(sorted((o for o in options if o != option and o.macs < option.macs and tied(o.top1, option.top1)),
                          key=lambda o: (o.macs, o.name)))
    return Verdict(option, best, () if best is not None else on_par)


def front(options: Sequence[Option]) -> list[Option]:
    """The variants nothing dominates (ties resolved as on par), cheapest first."""
    return sorted((o for o in options if verdict(o, options).dominated_by is None), key=lambda o: (o.macs, o.name))


def named_in(option: Option, compute: Sequence[Pick], speed: Sequence[Pick]) -> list[str]:
    """Where "Which variant?" names ``option`` as a pick, in words ("up to 5 GMACs, with a known licence")."""
    budgets = [(p, f"up to {p.budget:g} GMAC{'s' if p.budget != 1 else ''}") for p in compute]
    budgets += [(p, f"{p.budget:,.0f} images/s or more") for p in speed]
    return [words if p.best == option else f"{words}, with a known licence"
            for p, words in budgets if option in (p.best, p.known)]
