"""Which variant to pick (dla_docs.render.choose) and where plot labels go (dla_docs.render.labels).

Oracles: the choices restated by brute force over every variant (no front, no sorting
tricks), and the label rules checked geometrically on the boxes placed.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dla_docs.render import choose
from dla_docs.render.labels import distance_to_box, place_labels, text_width

# The family's recorded top-1, measured MACs, RTX 5090 throughput and licences (data/ and the zoo).
FAMILY = [
    ("dla34", 74.63, 3070104064, 10351.84, "bsd-3-clause"), ("dla46_c", 64.88, 583276032, 16367.92, "bsd-3-clause"),
    ("dla46x_c", 66.01, 544050944, 13800.82, "bsd-3-clause"), ("dla60x_c", 67.93, 593323776, 13182.93, "bsd-3-clause"),
    ("dla60", 77.04, 4256249856, 6281.14, "bsd-3-clause"), ("dla60x", 78.23, 3544202240, 5058.09, "bsd-3-clause"),
    ("dla102", 78.02, 7192950784, 4155.62, "bsd-3-clause"), ("dla102x", 78.52, 5886819328, 3380.08, "bsd-3-clause"),
    ("dla102x2", 79.45, 9343845376, 2221.46, "bsd-3-clause"), ("dla169", 78.70, 11598002176, 2834.32, "bsd-3-clause"),
    ("dla60_res2net", 78.48, 4147411840, 4891.3, "unknown"), ("dla60_res2next", 78.49, 3485145088, 4754.31, "unknown"),
]
OPTIONS = [choose.Option(n, t, None, m, s, lic) for n, t, m, s, lic in FAMILY]


def brute_front(options):
    return {o.name for o in options if not any(p.macs <= o.macs and p.top1 > o.top1 for p in options)}


def brute_tie(a, b):
    p = (a + b) / 200
    return abs(a - b) <= 100 * math.sqrt(p * (1 - p) / 50_000)


def test_front_and_verdicts_agree_with_brute_force():
    front = choose.pareto_front({o.name: (o.macs, o.top1) for o in OPTIONS})
    assert set(front) == brute_front(OPTIONS) == {"dla46x_c", "dla60x_c", "dla34", "dla60_res2next", "dla102x", "dla102x2"}
    for o in OPTIONS:  # verdicts: ties (within one standard error) are on par, never dominated
        v = choose.verdict(o, OPTIONS)
        beaters = [p for p in OPTIONS if p.macs <= o.macs and p.top1 > o.top1 and not brute_tie(p.top1, o.top1)]
        cheaper_ties = {p.name for p in OPTIONS if p is not o and p.macs < o.macs and brute_tie(p.top1, o.top1)}
        if beaters:
            assert v.dominated_by.top1 == max(p.top1 for p in beaters)
        else:
            assert v.dominated_by is None and {p.name for p in v.on_par} == cheaper_ties
        assert v.on_front == (not beaters and not cheaper_ties)
    assert choose.verdict(OPTIONS[1], OPTIONS).dominated_by.name == "dla46x_c"  # dla46_c
    assert choose.verdict(OPTIONS[9], OPTIONS).dominated_by.name == "dla102x2"  # dla169
    res2net = choose.verdict(OPTIONS[10], OPTIONS)  # 78.48 against 78.49: a tie, not a win
    assert res2net.dominated_by is None and [o.name for o in res2net.on_par] == ["dla60_res2next"]
    assert {o.name for o in choose.front(OPTIONS)} == {"dla46x_c", "dla60x_c", "dla34", "dla60_res2next",
                                                       "dla60_res2net", "dla102x", "dla102x2"}


def test_compute_picks_are_the_most_accurate_within_each_budget():
    picks = choose.compute_picks(OPTIONS)
    assert [(p.budget, p.best.name) for p in picks] == [(1, "dla60x_c"), (5, "dla60_res2next"), (10, "dla102x2")]
    for p in picks:
        within = [o for o in OPTIONS if o.gmacs <= p.budget]
        assert brute_tie(p.best.top1, max(o.top1 for o in within))
        beyond = [o for o in OPTIONS if o.gmacs > p.budget and o.top1 > p.best.top1 and not brute_tie(o.top1, p.best.top1)]
        assert p.next_up == (min(beyond, key=lambda o: o.macs) if beyond else None)
        if p.best.licence_known:
            assert p.known is None
        else:  # the unknown-licence pick comes with the best licensed alternative
            assert brute_tie(p.known.top1, max(o.top1 for o in within if o.licence_known))
    assert picks[1].known.name == "dla60x" and not picks[1].best.licence_known


def test_throughput_picks_are_the_most_accurate_at_or_above_each_floor():
    picks = choose.throughput_picks(OPTIONS)
    assert [(p.budget, p.best.name) for p in picks] == [(10000, "dla34"), (5000, "dla60x"), (2000, "dla102x2")]
    for p in picks:
        fast = [o for o in OPTIONS if o.throughput >= p.budget]
        assert brute_tie(p.best.top1, max(o.top1 for o in fast))
        slower = [o for o in OPTIONS if o.throughput < p.budget and o.top1 > p.best.top1
                  and not brute_tie(o.top1, p.best.top1)]
        assert p.next_up == (max(slower, key=lambda o: o.throughput) if slower else None)


def test_budgets_follow_1_2_5():
    assert choose.budgets_125(0.544, 11.6) == [1, 2, 5, 10, 20]
    assert choose.budgets_125(3, 3) == [5]


# -- labels ------------------------------------------------------------------------------------

AREA = (72, 22, 698, 468)


def check_labels(points, placed, radius=5, pad=2):
    boxes = {t: placed[t].box for t, _, _ in points}
    for t1, t2 in itertools.combinations(boxes, 2):
        a, b = boxes[t1], boxes[t2]
        assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (t1, t2)
    for text, px, py in points:
        box = boxes[text]
        assert AREA[0] <= box[0] and box[2] <= AREA[2] and AREA[1] <= box[1] and box[3] <= AREA[3], text
        own = distance_to_box(px, py, box)
        for other, ox, oy in points:
            if other != text:
                d = distance_to_box(ox, oy, box)
                assert d >= radius + pad and d > own, (text, other, d, own)


def test_labels_of_a_crowded_row_are_clear_and_nearest_their_own_marker():
    # The throughput plot's crowded row: three markers within 14 px (dla60_res2net, dla60_res2next, dla60x).
    points = [("dla34", 534.4, 208.3), ("dla60", 425.3, 154.1), ("dla60x", 378.0, 127.3), ("dla102", 335.1, 132.1),
              ("dla102x", 290.0, 120.8), ("dla60_res2net", 370.7, 121.7), ("dla60_res2next", 364.5, 121.5)]
    placed = place_labels(points, AREA, 12, 5)
    check_labels(points, placed)
    assert placed["dla34"].box[0] > 534.4 and not placed["dla34"].upright  # the first choice: to the right


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(100, 650), st.integers(60, 420)), min_size=2, max_size=8, unique=True))
def test_labels_either_obey_every_rule_or_say_they_cannot(coords):
    points = [(f"dla{i}x", float(x), float(y)) for i, (x, y) in enumerate(coords)]
    try:
        placed = place_labels(points, AREA, 12, 5)
    except ValueError:
        return
    check_labels(points, placed)


DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # installed by `make` (fonts-dejavu-core)


@pytest.mark.parametrize("text", ["dla34", "dla60_res2next", "dla102x2", "dla46x_c"])
def test_text_width_is_dejavu_sans(text):
    from PIL import ImageFont

    font = ImageFont.truetype(DEJAVU, 1200)  # 100x the plots' 12 px: advance widths from the font file
    assert math.isclose(text_width(text, 12), font.getlength(text, features=["-kern"]) / 100, rel_tol=0.001)
    assert text_width(text, 12) >= font.getlength(text) / 100 - 0.01  # kerning (as browsers draw) only narrows
