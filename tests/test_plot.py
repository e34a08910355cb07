"""The family plots (dla_docs.render.plot) with any plausible data: never an exception, and
every drawing obeys its rules, checked on the SVG itself.

Oracles: the SVG parsed back (marker centres, label anchors, the Pareto path's vertices, the
legend's text), against the figures given and a brute-force Pareto front; text boxes from
DejaVu Sans's advance widths (checked against the font file in test_choose).
"""

from __future__ import annotations

import csv
import math
import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import PROJECT
from dla_docs.render.choose import pareto_front
from dla_docs.render.labels import ASCENT, DESCENT, arrange_labels, text_width
from dla_docs.render.plot import RADIUS, ContextPoint, macs_vs_parameters_svg, throughput_vs_top1_svg, top1_vs_macs_svg
from test_choose import AREA, FAMILY

NS = {"s": "http://www.w3.org/2000/svg"}
PARAMS = {row["model"]: float(row["param_count_m"])
          for row in csv.DictReader((PROJECT / "data" / "timm_benchmark_dla.csv").open())}
CONTEXT = [ContextPoint("resnet50", 80.4, 25.6, 4.1, 3100.0), ContextPoint("efficientnet_b0", 77.7, 5.3, 0.4, 9000.0),
           ContextPoint("resnet18", 69.7, 11.7, 1.8, 12000.0)]


def measurements(macs=None):
    return {n: SimpleNamespace(parameters=PARAMS[n] * 1e6, macs=(macs or {}).get(n, m), image_size=224)
            for n, _, m, _, _ in FAMILY}


def recorded(speeds=None, top1=None):
    return {n: SimpleNamespace(top1=(top1 or {}).get(n, t), benchmarks=[SimpleNamespace(
        source="results/benchmark-infer-amp-nchw-pt291-cu130-5090.csv", hardware="RTX 5090", batch_size=1024,
        precision="amp", samples_per_sec=(speeds or {}).get(n, s))]) for n, t, _, s, _ in FAMILY}


def frames(markup: str) -> list[ET.Element]:
    svgs = [ET.fromstring(part) for part in re.findall(r"<svg .*?</svg>", str(markup), re.S)]
    assert [s.get("class") for s in svgs] == ["dla-plot dla-plot--wide", "dla-plot dla-plot--narrow"]
    return svgs


def _centre(g: ET.Element) -> tuple[float, float]:
    circle = g.find("s:circle", NS)
    if circle is not None:
        return float(circle.get("cx")), float(circle.get("cy"))
    first = re.match(r"M([\d.]+),([\d.]+)", g.find("s:path", NS).get("d"))  # a diamond: top vertex
    return float(first.group(1)), float(first.group(2)) + RADIUS + 1


def check_frame(svg: ET.Element, names: set[str], front_expected: set[str] | None) -> None:
    width = float(svg.get("width"))
    groups = [g for g in svg.iter("{http://www.w3.org/2000/svg}g") if re.match(r"(point|context)( |$)", g.get("class", ""))
              and "key" not in g.get("class")]
    centres = {g.get("id"): _centre(g) for g in groups}
    assert len(groups) == len(names)
    # no marker hides another
    items = list(centres.items())
    for i, (a, pa) in enumerate(items):
        for b, pb in items[i + 1:]:
            assert math.dist(pa, pb) >= 2 * RADIUS, (a, b, pa, pb)
    # every label horizontal, inside the drawing, none over another; each names its point or
    # its number in the key
    legend = " ".join(t.text for t in svg.find("s:g[@class='legend']", NS).iter("{http://www.w3.org/2000/svg}text"))
    boxes = []
    for g in groups:
        text = g.find("s:text", NS)
        assert text.get("transform") is None, text.get("transform")
        label, size = text.text, 12
        name = g.find("s:title", NS).text.split(":")[0].split(" (")[0]
        assert label == name or f"{label} {name}" in legend, (label, name)
        w, x, y = text_width(label, size), float(text.get("x")), float(text.get("y"))
        left = {"end": x - w, "middle": x - w / 2}.get(text.get("text-anchor"), x)
        boxes.append((left, y - ASCENT * size, left + w, y + DESCENT * size))
        assert 0 <= left and left + w <= width, (label, left, w)
    # the greedy last resort may overlap; the test data never needs it: boxes are disjoint
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5), (a, b)
    # the Pareto line: through front points only, and a legend for the colours
    if front_expected is not None:
        front = {g.get("id") for g in groups if "pareto" in g.get("class").split()}
        assert {re.sub(r"^dla-plot-[a-z0-9-]+?-(dla\w+?)(-narrow)?$", r"\1", f) for f in front} == front_expected
        path = svg.find("s:path[@class='pareto']", NS)
        assert (path is None) == (len(front_expected) == 1)
        # each "M ... L ..." piece on its own: the jump from one piece's end to the next's start
        # is a gap left for a marker, not a drawn line
        pieces = [] if path is None else [[tuple(map(float, v.split(","))) for v in re.findall(r"[\d.]+,[\d.]+", piece)]
                                          for piece in path.get("d").split("M") if piece.strip()]
        segments = [pair for piece in pieces for pair in zip(piece, piece[1:])]
        for (ax, ay), (bx, by) in segments:
            for k in range(21):  # samples along each drawn segment
                px, py = ax + (bx - ax) * k / 20, ay + (by - ay) * k / 20
                for gid, c in centres.items():
                    if gid not in front:
                        assert math.dist((px, py), c) > RADIUS, (gid, px, py)
        assert "on the Pareto front" in legend and "other DLA variant" in legend
    else:
        assert "DLA variant" in legend


def brute_front(points: dict[str, tuple[float, float]]) -> set[str]:
    """The front as the family page names it (choose.pareto_front, tested in test_choose):
    the plot must mark and join exactly those points."""
    return set(pareto_front(points))


def test_a_faster_benchmark_row_never_crashes_the_plots_issue_27_case_9():
    """dla60x at 30,000 images/s on the RTX 5090 (issue 27, case 9) ended the build in
    ``ValueError: no label placement``; now every label is placed, or numbered in a key."""
    speeds = {"dla60x": 30000.0}
    result = throughput_vs_top1_svg(recorded(speeds))
    speed = {n: speeds.get(n, s) for n, _, _, s, _ in FAMILY}
    front = brute_front({n: (-speed[n], t) for n, t, _, _, _ in FAMILY})
    for svg in frames(result["svg"]):
        check_frame(svg, {n for n, *_ in FAMILY}, front)


def test_plots_draw_context_points_muted_labelled_and_off_the_front():
    top1 = {n: t for n, t, *_ in FAMILY}
    markup = top1_vs_macs_svg(measurements(), top1, CONTEXT)
    front = brute_front({n: (m, t) for n, t, m, _, _ in FAMILY})
    names = {n for n, *_ in FAMILY} | {c.name for c in CONTEXT}
    for svg in frames(markup):
        check_frame(svg, names, front)
        context = svg.findall(".//s:g[@class='context']", NS)
        assert sorted(g.find("s:title", NS).text.split(" ")[0] for g in context) == sorted(c.name for c in CONTEXT)
        assert "other family" in " ".join(t.text for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    for svg in frames(macs_vs_parameters_svg(measurements(), CONTEXT)):
        check_frame(svg, names, None)
    for svg in frames(throughput_vs_top1_svg(recorded(), CONTEXT)["svg"]):
        check_frame(svg, names, brute_front({n: (-s, t) for n, t, _, s, _ in FAMILY}))


VARIANTS = [n for n, *_ in FAMILY]


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@example(speeds={"dla34": 14746.0}, top1={"dla34": 50.0, "dla46_c": 50.0})  # a gap beside dla34, once misread as a line
@given(st.dictionaries(st.sampled_from(VARIANTS), st.floats(20.0, 60000.0), max_size=4),
       st.dictionaries(st.sampled_from(VARIANTS), st.floats(50.0, 90.0), max_size=4))
def test_plausible_data_values_never_crash_the_plots(speeds, top1):
    """Any throughput from 20 to 60,000 images/s, any top-1 from 50 to 90%: drawn, every rule kept."""
    result = throughput_vs_top1_svg(recorded(speeds, top1))
    speed = {n: speeds.get(n, s) for n, _, _, s, _ in FAMILY}
    accuracy = {n: top1.get(n, t) for n, t, *_ in FAMILY}
    for svg in frames(result["svg"]):
        check_frame(svg, set(VARIANTS), brute_front({n: (-speed[n], accuracy[n]) for n in VARIANTS}))


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(80, 690), st.integers(30, 460)), min_size=2, max_size=14))
def test_label_arrangement_always_answers_inside_the_area(coords):
    """Even for coincident points in a crowd: a horizontal label for every point, in the area."""
    points = [(f"dla{i}x", float(x), float(y)) for i, (x, y) in enumerate(coords)]
    placed = arrange_labels(points, AREA, 12, 5)
    assert set(placed) == {name for name, _, _ in points}
    for name, label in placed.items():
        box = label.box
        assert not label.upright
        assert AREA[0] - 0.01 <= box[0] and box[2] <= AREA[2] + 0.01 and AREA[1] - 0.01 <= box[1] and box[3] <= AREA[3] + 0.01
        assert label.text in ("", str([n for n, _, _ in points].index(name) + 1)), (name, label.text)


@pytest.mark.slow
def test_build_and_verify_survive_a_30000_images_per_second_row(tmp_path, measurements):
    """Issue 27, case 9, end to end: dla60x's RTX 5090 row at 30,000 images/s; build writes
    the family page with every variant in the throughput plot, and verify then passes."""
    from conftest import copy_project

    from dla_docs.cli import main

    root = copy_project(tmp_path / "project", measurements)
    data = root / "data" / "timm_benchmark_dla.csv"
    lines = data.read_text().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.startswith("dla60x,") and "5090" in line]
    assert len(hits) == 1
    fields = lines[hits[0]].split(",")
    fields[2] = "30000"
    lines[hits[0]] = ",".join(fields)
    data.write_text("".join(lines))
    assert main(["--project", str(root), "build", "--no-site"]) == 0
    index = (root / "docs" / "index.md").read_text()
    assert 'id="dla-plot-throughput-dla60x"' in index and "30,000 images/s" in index
    assert main(["--project", str(root), "verify"]) == 0
