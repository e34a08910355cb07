"""Generated pages: complete, deterministic and fresh in the repository (snippets: test_snippets.py)."""

from __future__ import annotations

import csv
import html
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from conftest import PROJECT, render_project, session_settings

from dla_docs import list_models
from dla_docs.checks.freshness import check_pages
from dla_docs.config import load_settings
from dla_docs.render.diff_pages import DIFF_PAIRS

VARIANTS = list_models()


def test_one_card_per_variant_and_nav_in_zoo_order(generated):
    files = generated.files
    for name in VARIANTS:
        assert f"models/{name}.md" in files
        assert f"graphs/{name}-hda.svg" in files and f"graphs/{name}-ida.svg" in files
    nav = files[".nav.yml"].decode()
    assert re.findall(r"- (\w+): models/\1\.md", nav) == VARIANTS


def test_every_page_says_fvcore_counts_macs(generated):
    pages = {name: data.decode() for name, data in generated.files.items() if name.endswith(".md")}
    assert len(pages) == len(VARIANTS) + 4 + len(DIFF_PAIRS)  # family, architecture, verification, glossary, diffs
    for name, text in pages.items():
        assert 'one multiply-add as one "flop"' in text, name


def _table(index: str, table_id: str) -> list[list[str]]:
    """The body cells of one HTML table of the family page, tags stripped."""
    body = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', index, re.S).group(1)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


UNKNOWN_LICENCE = {"dla60_res2net", "dla60_res2next"}  # the issue: the Hub states no licence for these
with (PROJECT / "data" / "timm_benchmark_dla.csv").open(newline="") as _f:  # timm's rows, read with csv
    RTX_5090 = {r["model"]: float(r["samples_per_sec"]) for r in csv.DictReader(_f) if r["source"].endswith("-5090.csv")}


def test_family_table_lists_every_variant_with_measured_figures(generated, seed_flops):
    index = generated.files["index.md"].decode()
    rows = _table(index, "dla-family-table")
    assert [r[0] for r in rows] == VARIANTS
    for name, top1, top5, params, gmacs, speed, memory, licence in rows:
        m = generated.measurements[name]
        card = generated.files[f"models/{name}.md"].decode()
        assert f"ImageNet top-1 · top-5 | **{top1}%** · {top5}%" in card, name
        assert params == f"{m.parameters / 1e6:.2f}" and gmacs == f"{m.macs / 1e9:.2f}"
        assert speed == f"{RTX_5090[name]:,.0f}", name
        peak = next(b.inference for b in m.peak_memory.batches if b.batch == 32)
        assert memory == f"{peak / 1e6:,.0f}"
        assert licence == ("unknown" if name in UNKNOWN_LICENCE else "bsd-3-clause")
    sizes = _table(index, "dla-sizes-table")
    assert [r[0] for r in sizes] == VARIANTS
    for name, flops in seed_flops.items():  # the published model-index FLOPs, in billions
        assert next(r for r in sizes if r[0] == name)[1] == f"{flops / 1e9:.3f}", name
    assert 'class="dla-plot dla-plot--wide"' in index and len(re.findall(r'<g class="point[^"]*" id="', index)) == 6 * len(VARIANTS)  # three plots, wide and narrow
    for plot in ("dla-plot-top1-macs", "dla-plot-throughput"):
        assert re.findall(rf'<g class="point[^"]*" id="{plot}-(\w+)"', index) != [] and \
            sorted(re.findall(rf'<g class="point[^"]*" id="{plot}-(\w+)"', index)) == sorted(VARIANTS)


def test_which_variant_names_the_most_accurate_within_each_budget(generated):
    """Every "Up to N GMACs" line names the variant with the best top-1 among those whose
    GMACs (from the family table) fit N, and marks an unknown licence; every card says whether
    its variant is on the front or names one that beats it (checked by brute force)."""
    index = generated.files["index.md"].decode()
    rows = {r[0]: (float(r[1]), float(r[4]), float(r[5].replace(",", ""))) for r in _table(index, "dla-family-table")}
    section = index.split("## Which variant?")[1].split("\n## ")[0]
    lines = re.findall(r"^- \*\*Up to (\d+) GMACs?:\*\* \[(\w+)\].*$", section, re.M)
    assert len(lines) >= 3
    for budget, pick in lines:  # the most accurate, or one on par with it (within 0.2 points: a tie)
        within = {n: v for n, v in rows.items() if v[1] <= float(budget)}
        assert max(v[0] for v in within.values()) - within[pick][0] < 0.2, (budget, pick)
    speed = re.findall(r"^- \*\*([\d,]+) images/s or more:\*\* \[(\w+)\]", section, re.M)
    assert len(speed) >= 2
    for floor, pick in speed:
        fast = {n: v for n, v in rows.items() if v[2] >= float(floor.replace(",", ""))}
        assert max(v[0] for v in fast.values()) - fast[pick][0] < 0.2, (floor, pick)
    for line in re.findall(r"^- .*$", section, re.M):
        named = re.findall(r"\[(\w+)\]\(models/", line)
        for name in named:  # each named variant is followed by its licence, unknown ones in bold
            after = line.split(f"[{name}]", 1)[1].split("[", 1)[0]
            assert ("**licence unknown**" in after) == (name in UNKNOWN_LICENCE), (name, line)
    assert "license" in section and "Pareto" in section and "budget" in section
    for name, (top1, gmacs, _) in rows.items():
        card = generated.files[f"models/{name}.md"].decode()
        beaten = [n for n, v in rows.items() if v[1] <= gmacs and v[0] - top1 > 0.2]  # beyond a tie
        row = re.search(r"^\| which variant\? \| (.*) \|$", card, re.M).group(1)
        if beaten:
            dominator = re.match(r"dominated by \[(\w+)\]", html.unescape(row)).group(1)
            assert dominator in beaten, (name, row)
        else:  # ties are tested against the unrounded figures in test_reader_content
            assert row.startswith(("on the accuracy/GMACs front", "on par with")), (name, row)


def test_pareto_front_of_top1_against_gmacs(generated):
    """A point is on the front when no other variant has both fewer MACs and a higher top-1."""
    index = generated.files["index.md"].decode()
    top1 = {}
    for name in VARIANTS:
        card = generated.files[f"models/{name}.md"].decode()
        top1[name] = float(re.search(r"ImageNet top-1 · top-5 \| \*\*([\d.]+)%", card).group(1))
    macs = {n: generated.measurements[n].macs for n in VARIANTS}
    expected = {n for n in VARIANTS if not any(macs[o] <= macs[n] and top1[o] > top1[n] for o in VARIANTS)}
    shown = set(re.findall(r'<g class="point pareto" id="dla-plot-top1-macs-(\w+)"', index))
    assert shown == expected and len(shown) >= 3


@pytest.mark.parametrize("name", VARIANTS)
def test_card_shows_measured_beside_recorded(generated, name, seed_flops):
    card = html.unescape(generated.files[f"models/{name}.md"].decode())
    m = generated.measurements[name]
    assert f"| FLOPs | {seed_flops[name]:,} | {m.flops_model_index:,} |" in card
    assert "\u2713 agrees" in card and "\u2717 drift" not in card
    for level in m.levels:
        assert f"| {level.channels} x {level.height} x {level.width} | {level.stride} |" in card
    assert f'id="{name}-hda-' in card and f'id="{name}-ida-' in card
    assert "@inproceedings{yu2018deep," in card and "@misc{rw2019timm," in card
    assert ("@article{gao2021res2net," in card) == (name in ("dla60_res2net", "dla60_res2next"))


def test_rendering_is_deterministic(generated, measurements):
    again = render_project(session_settings(load_settings(PROJECT)))
    assert again.files == generated.files


def test_committed_docs_are_fresh(generated):
    """CI fails here when someone changed the code or templates and forgot `make build`."""
    assert (PROJECT / "docs" / "index.md").is_file(), "docs/ is not committed: run make build"
    stale = check_pages(PROJECT / "docs", generated.files, "docs")
    assert not stale, "\n".join(f"{f.field}: {f.kind}\n" + "\n".join(f.diff) for f in stale)


def test_template_errors_surface_before_any_measuring(tmp_path, monkeypatch):
    from conftest import copy_project

    from dla_docs.errors import InputError

    root = copy_project(tmp_path / "project")
    page = root / "templates" / "pages" / "architecture.md"
    page.write_text(page.read_text() + "{% if %}\n")
    monkeypatch.setattr("dla_docs.measure.runner.Measuring.as_they_come",
                        lambda *a, **k: pytest.fail("waited for measurements before the templates were checked"))
    with pytest.raises(InputError, match=r"templates/pages/architecture\.md:\d+: template"):
        render_project(load_settings(root))


@pytest.mark.parametrize("a, b", DIFF_PAIRS)
def test_diff_pages_show_accuracy_and_throughput_changes_with_readable_labels(generated, a, b):
    """Top-1, top-5 and throughput beside the costs, each change computed here (accuracy from the
    results file's unrounded figures, throughput from the benchmark file); no raw record key
    (macs, flops_model_index, ...) as a row label."""
    text = html.unescape(generated.files[f"diffs/{a}-{b}.md"].decode())
    rows = {r[0]: r for r in _table(generated.files["index.md"].decode(), "dla-family-table")}
    section = text.split("## Accuracy, speed and cost")[1].split("\n## ")[0]
    with (PROJECT / "data" / "timm_results_dla.csv").open(newline="") as f:  # unrounded: the change's oracle
        exact = {r["model"].split(".")[0]: r for r in csv.DictReader(f) if r["dataset"] == "imagenet"}
    for column, label in ((1, "top1"), (2, "top5")):
        change = Decimal(exact[b][label]) - Decimal(exact[a][label])
        shown = f"{change.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):+.2f}"
        assert f"| ImageNet top-{label[-1]} (%) | {rows[a][column]} | {rows[b][column]} | {shown} points |" in section
    speed_a, speed_b = RTX_5090[a], RTX_5090[b]
    assert f"| {rows[a][5]} | {rows[b][5]} | {(speed_b - speed_a) / speed_a:+.1%} |" in section
    labels = re.findall(r"^\| ([^|]+?) \|", text, re.M)
    assert not {"macs", "flops model index", "flops_model_index", "checkpoint bytes"} & set(labels), labels
    assert "MACs (fvcore)" in labels and "FLOPs (model-index)" in labels


def test_no_page_links_to_the_old_timm_hosts(generated):
    """timm's repository and docs moved to github.com/huggingface and huggingface.co/docs/timm."""
    old = [name for name, data in generated.files.items() if b"rwightman" in data]
    assert old == []
    index = generated.files["index.md"].decode()
    assert "https://huggingface.co/docs/timm" in index and "github.com/huggingface/pytorch-image-models" in \
        generated.files["models/dla34.md"].decode()
