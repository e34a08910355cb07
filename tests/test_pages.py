"""Generated pages: complete, deterministic and fresh in the repository (snippets: test_snippets.py)."""

from __future__ import annotations

import html
import re

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
    assert len(pages) == len(VARIANTS) + 3 + len(DIFF_PAIRS)  # family, architecture, verification, diffs
    for name, text in pages.items():
        assert 'one multiply-add as one "flop"' in text, name


def test_family_table_lists_every_variant_with_measured_figures(generated, seed_flops):
    index = generated.files["index.md"].decode()
    rows = re.findall(r'<tr><td class="dla-variant"><a href="models/(\w+)\.html">', index)
    assert rows == VARIANTS
    for name, flops in seed_flops.items():
        assert f"{flops:,}" in index, name
    assert 'class="dla-plot"' in index and index.count('<g class="point') == 3 * len(VARIANTS)  # three plots
    for plot in ("dla-plot-top1-macs", "dla-plot-throughput"):
        assert re.findall(rf'<g class="point[^"]*" id="{plot}-(\w+)"', index) != [] and \
            sorted(re.findall(rf'<g class="point[^"]*" id="{plot}-(\w+)"', index)) == sorted(VARIANTS)


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
