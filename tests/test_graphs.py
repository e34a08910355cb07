"""The aggregation graphs: what the SVGs show must be the model, drawn the same every time.

Every check reads the rendered SVG (not the DOT source), because the SVG is what pages embed.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from dla_docs import list_models
from dla_docs.cli import main
from dla_docs.errors import ToolMissingError
from dla_docs.render.graphs import (
    DOT_MISSING,
    EDGE_STYLES,
    MAC_BINS,
    NO_COST_FILL,
    family_graph,
    hda_graph,
    ida_graph,
    mac_fill,
    render,
    render_svg,
    svg_for_inline,
)
from dla_docs.zoo.blocks import RESIDUAL_BLOCKS, AggregationNode
from dla_docs.zoo.factory import create_uninitialised

VARIANTS = list_models()
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
KINDS = {"hda": hda_graph, "ida": ida_graph}


@dataclasses.dataclass
class Drawn:
    """The parts of a Graphviz SVG the tests look at, keyed by DOT node name (``<title>``)."""

    nodes: dict[str, set[str]]  # name -> classes
    tooltips: dict[str, str]
    fills: dict[str, str]  # name -> fill of the node's shape
    texts: dict[str, str]  # name -> its label text, lines joined by " | "
    edges: list[tuple[str, str, str]]  # (source, target, kind) for edges drawn with a kind
    clusters: dict[str, tuple[float, float, float, float]]  # title -> x0, y0, x1, y1
    ids: list[str]


def _bbox(d: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def parse(svg: str) -> Drawn:
    root = ET.fromstring(svg)
    drawn = Drawn({}, {}, {}, {}, [], {}, [e.get("id") for e in root.iter() if e.get("id")])
    for g in root.iter(f"{SVG}g"):
        classes = set(g.get("class", "").split())
        title = g.findtext(f"{SVG}title", "")
        if "node" in classes:
            drawn.nodes[title] = classes
            link = g.find(f".//{SVG}a")
            drawn.tooltips[title] = link.get(f"{XLINK}title") if link is not None else ""
            shape = next((e for e in g.iter() if e.tag in {f"{SVG}polygon", f"{SVG}ellipse", f"{SVG}path"}), None)
            drawn.fills[title] = shape.get("fill") if shape is not None else ""
            drawn.texts[title] = " | ".join(t.text or "" for t in g.iter(f"{SVG}text"))
        elif "edge" in classes and classes & set(EDGE_STYLES):
            source, target = (end.split(":")[0] for end in title.split("->"))
            drawn.edges.append((source, target, (classes & set(EDGE_STYLES)).pop()))
        elif "cluster" in classes:
            drawn.clusters[title] = _bbox(g.find(f"{SVG}path").get("d"))
    return drawn


@pytest.fixture(scope="module")
def svgs(structures) -> dict[tuple[str, str], str]:
    """Every variant's HDA and IDA SVG, rendered once for the module."""
    return {(name, kind): render_svg(make(structures[name])) for name in VARIANTS for kind, make in KINDS.items()}


def _stage_of(node: str) -> int:
    match = re.match(r"level(\d)\.", node)
    assert match, node
    return int(match.group(1))


@pytest.mark.parametrize("name", VARIANTS)
def test_hda_nodes_are_the_models_blocks_and_roots(name, svgs):
    drawn = parse(svgs[name, "hda"])
    model = create_uninitialised(name)
    blocks = {p for p, m in model.named_modules() if isinstance(m, RESIDUAL_BLOCKS)}
    roots = {p for p, m in model.named_modules() if isinstance(m, AggregationNode)}
    assert {n for n, c in drawn.nodes.items() if "block" in c} == blocks
    assert {n for n, c in drawn.nodes.items() if "root" in c} == roots


@pytest.mark.parametrize("name", VARIANTS)
def test_hda_edges_are_the_structures_and_every_root_merges_two_or_more(name, svgs, structures):
    drawn, s = parse(svgs[name, "hda"]), structures[name]
    expected = Counter((e.source, e.target, "stage" if e.target.endswith(".input") else e.kind)
                       for e in s.edges())
    assert Counter(drawn.edges) == expected
    into = Counter(target for _, target, kind in drawn.edges if kind == "aggregation")
    for node, classes in drawn.nodes.items():
        if "root" in classes:
            assert into[node] >= 2, node
            assert into[node] == len(s.stage(node.split(".")[0]).inputs_of(node))


@pytest.mark.parametrize("name", VARIANTS)
def test_no_edge_runs_from_a_later_stage_to_an_earlier_one(name, svgs):
    edges = parse(svgs[name, "hda"]).edges
    assert edges
    assert all(_stage_of(source) <= _stage_of(target) for source, target, _ in edges)
    assert sum(_stage_of(s) < _stage_of(t) for s, t, _ in edges) == 3  # level2 -> 3 -> 4 -> 5


@pytest.mark.parametrize("name", VARIANTS)
def test_stage_clusters_do_not_overlap(name, svgs):
    clusters = parse(svgs[name, "hda"]).clusters
    assert set(clusters) == {"cluster_legend", *(f"cluster_level{i}" for i in range(2, 6))}
    for (a, box_a), (b, box_b) in itertools.combinations(clusters.items(), 2):
        apart = box_a[2] <= box_b[0] or box_b[2] <= box_a[0] or box_a[3] <= box_b[1] or box_b[3] <= box_a[1]
        assert apart, (a, b)


@pytest.mark.parametrize("name", VARIANTS)
def test_tooltips_labels_and_shading_come_from_the_measurement(name, svgs, structures, measurements):
    drawn, s, m = parse(svgs[name, "hda"]), structures[name], measurements[name]
    for node in s.nodes():
        tip = drawn.tooltips[node.id]
        if node.module:
            count = m.modules[node.module]
            assert node.module in tip
            assert f"parameters: {count.parameters:,}" in tip and f"MACs: {count.macs:,}" in tip
        assert drawn.fills[node.id] == mac_fill(node.macs / m.macs)
        if node.kind in {"block", "root", "input"}:
            assert f"{node.channels} \u00d7 {node.height}\u00d7{node.width}" in drawn.texts[node.id]
    legend = svgs[name, "hda"]
    assert all(f'fill="{colour}"' in legend for _, colour in MAC_BINS)


def test_mac_shades_follow_the_bins():
    assert mac_fill(0) == NO_COST_FILL
    assert mac_fill(0.001) == MAC_BINS[0][1]
    assert mac_fill(0.005) == MAC_BINS[1][1]  # a bound belongs to the bin above it
    assert mac_fill(0.9) == MAC_BINS[-1][1]
    assert len({c for _, c in MAC_BINS} | {NO_COST_FILL}) == len(MAC_BINS) + 1


@pytest.mark.parametrize("name", VARIANTS)
def test_ida_is_the_chain_of_levels_with_its_aggregation_links(name, svgs, structures):
    drawn, s = parse(svgs[name, "ida"]), structures[name]
    levels = [lv.name for lv in s.levels]
    chain = [(a, b, "stage") for a, b in zip(["image", *levels], levels)]
    ida = [(levels[i - 1], lv.name, "aggregation") for i, lv in enumerate(s.levels) if lv.aggregates_input]
    assert sorted(drawn.edges) == sorted(chain + ida)
    assert [lv.name for lv in s.levels if lv.aggregates_input] == ["level3", "level4", "level5"]
    for level in s.levels[1:-1]:
        assert f"{level.channels} \u00d7 {level.height}\u00d7{level.width}" in drawn.texts[level.name]


def test_family_figure_compares_every_variant_stage_by_stage(structures):
    svg = render_svg(family_graph([structures[n] for n in VARIANTS]))
    drawn = parse(svg)
    for name in VARIANTS:
        for stage in structures[name].stages:
            text = drawn.texts[f"{name}.{stage.name}"]
            assert f"depth {stage.depth}" in text and f"{stage.channels} ch" in text
    assert sum("stage" in c for c in drawn.nodes.values()) == 4 * len(VARIANTS)
    assert render_svg(family_graph([structures[n] for n in VARIANTS])) == svg
    assert len(set(drawn.ids)) == len(drawn.ids)


@pytest.mark.parametrize("name", VARIANTS)
def test_two_renders_are_byte_identical(name, structures, svgs):
    for kind, make in KINDS.items():
        again = render_svg(make(dataclasses.replace(structures[name])))
        assert again == svgs[name, kind]
        ET.fromstring(again)  # parses as XML


def test_ids_are_unique_on_a_page_holding_every_figure(svgs, structures):
    all_ids: list[str] = []
    for (name, kind), svg in svgs.items():
        ids = parse(svg).ids
        prefix = f"{name}-{kind}"
        assert all(i == prefix or i.startswith((f"{prefix}-", f"a_{prefix}-")) for i in ids), name
        all_ids += ids
    all_ids += parse(render_svg(family_graph(list(structures.values())))).ids
    assert [i for i, n in Counter(all_ids).items() if n > 1] == []


def test_inline_svg_has_no_prolog_doctype_or_comments(svgs):
    svg = svgs["dla34", "hda"]
    assert svg.startswith("<?xml") and "<!DOCTYPE" in svg and "<!--" in svg
    inline = svg_for_inline(svg)
    assert inline.startswith("<svg") and inline.rstrip().endswith("</svg>")
    assert "<?xml" not in inline and "<!DOCTYPE" not in inline and "<!--" not in inline
    # every id kept but those of Graphviz's groups around links (a_...), left out inline
    assert [e.get("id") for e in ET.fromstring(inline).iter() if e.get("id")] == [
        i for i in parse(svg).ids if not i.startswith("a_")]
    # the same drawing: each text's font and anchor as before, now inherited from the root
    root = ET.fromstring(inline)
    assert root.get("font-family") == "DejaVu Sans"
    assert all(t.get("font-family") is None and t.get("text-anchor") in (None, "middle", "end")
               for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert svg.count('font-family="DejaVu Sans"') == len(ET.fromstring(svg).findall(".//{*}text"))
    # on a page: one named group, no Graphviz titles, label text hidden, nodes are buttons
    assert "<title>" not in inline and 'aria-hidden="true"' in inline
    assert inline.startswith('<svg role="group" aria-label="Full hierarchical deep aggregation graph of dla34')
    assert inline.count('role="button"') == len(parse(svg).nodes) - sum(
        bool({"legend", "title"} & classes) for classes in parse(svg).nodes.values())


def _drawing(svg: str) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    """What an SVG draws, in order: each shape or non-blank text with its drawing attributes
    (the font and start anchor as each element gets them, inherited or its own)."""
    root = ET.fromstring(svg)
    inherited = {"font-family": root.get("font-family"), "text-anchor": "start"}
    out = []
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        if tag not in ("path", "polygon", "polyline", "ellipse", "text"):
            continue
        own = {k: v for k, v in element.attrib.items() if k not in ("aria-hidden", "id")}
        if tag == "text":
            if not (element.text or "").strip():
                continue
            own = {**{k: v for k, v in inherited.items() if v}, **own}
        out.append((tag, tuple(sorted(own.items())), element.text or ""))
    return out


@pytest.mark.parametrize("kind", ["hda", "ida"])
def test_inline_svg_draws_what_graphviz_drew(svgs, kind):
    """The page's copy is smaller (no blank labels, no entity for "-", no line breaks between
    elements) but draws every shape and label Graphviz drew, with the same attributes."""
    svg = svgs["dla34", kind]
    assert "&#45;" in svg and ">\n<" in svg and re.search(r"<text [^>]*> </text>", svg)
    inline = svg_for_inline(svg)
    assert "&#45;" not in inline and ">\n<" not in inline and not re.search(r"<text [^>]*> *</text>", inline)
    drawn = _drawing(inline)
    assert drawn == _drawing(svg) and len(drawn) > 20
    # every text is still hidden from assistive technology (the nodes' buttons name them)
    assert all(t.get("aria-hidden") == "true" for t in ET.fromstring(inline).iter(f"{SVG}text"))


def test_labels_are_escaped(structures):
    nasty = '<b>A & "B" \\N \\l</b>'
    s = dataclasses.replace(structures["dla34"], title=nasty)
    for make in KINDS.values():
        ET.fromstring(render_svg(make(s)))
    svg = render_svg(hda_graph(s))
    assert nasty in "".join(ET.fromstring(svg).itertext())


def test_missing_dot_is_a_clear_error(monkeypatch, tmp_path, structures, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without dot in it
    graph = ida_graph(structures["dla34"])
    with pytest.raises(ToolMissingError, match="apt-get install graphviz"):
        render_svg(graph)
    assert b"\ndigraph dla34_ida {" in render(graph, "dot")  # DOT source needs no dot
    (tmp_path / "pyproject.toml").write_text("[tool.dla-docs]\n", encoding="utf-8")  # a bare project
    code = main(["--project", str(tmp_path), "graph", "dla34"])
    assert code == 2
    assert DOT_MISSING in capsys.readouterr().err
    assert ToolMissingError.exit_code == 2


def test_cli_writes_the_same_svg_as_the_library(tmp_path, structures, measurements, capsysbinary):
    (tmp_path / "pyproject.toml").write_text("[tool.dla-docs]\n", encoding="utf-8")  # a bare project
    out = tmp_path / "dla34.svg"
    assert main(["--project", str(tmp_path), "graph", "dla34", "-o", str(out)]) == 0
    from dla_docs.render.graphs import root_fields

    fields = root_fields(measurements["dla34"])
    assert fields and out.read_text() == render_svg(hda_graph(structures["dla34"], fields=fields))
    assert main(["--project", str(tmp_path), "graph", "dla34", "--kind", "ida", "--format", "dot"]) == 0
    assert capsysbinary.readouterr().out == render(ida_graph(structures["dla34"]), "dot")
    png = tmp_path / "dla34.png"
    assert main(["--project", str(tmp_path), "graph", "dla34", "--format", "png", "-o", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text("[tool.dla-docs]\n", encoding="utf-8")  # a bare project
    assert main(["graph", "dla35"]) == 2
    assert "dla35" in capsys.readouterr().err
    assert main(["graph", "dla34", "--kind", "tree"]) == 2
    assert main(["--project", str(tmp_path), "graph", "dla34", "-o", str(tmp_path / "no" / "x.svg")]) == 2
    assert "x.svg: cannot write: its folder" in capsys.readouterr().err
