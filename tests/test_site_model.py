"""The stages as the commands compose them: what ``verify`` measures and renders, and the pages
kept by the digest of their inputs (a warm run renders only what changed)."""

from __future__ import annotations

import re

import pytest
from conftest import copy_project
from verify_helpers import fixture_text, make_project, run_cli

from dla_docs import run
from dla_docs.config import load_settings
from dla_docs.render import pages
from dla_docs.zoo.variants import list_models

PAGE_FUNCTIONS = ("family_page", "architecture_page", "verification_page", "glossary_page", "model_card",
                  "render_diff_page", "check_templates")


def recording_pages(monkeypatch) -> list[str]:
    """Every page function called from now on, by name (each still renders)."""
    called: list[str] = []
    for name in PAGE_FUNCTIONS:
        real = getattr(pages, name)

        def recorded(*args, _real=real, _name=name, **kwargs):
            called.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(pages, name, recorded)
    return called


@pytest.fixture
def built(tmp_path, measurements, capsys):
    """A copy of this project with its pages built (the store warm)."""
    root = copy_project(tmp_path / "project", measurements)
    code, _, err = run_cli(["--project", str(root), "build", "--no-site"], capsys)
    assert code == 0, err
    return root


def test_verify_with_a_named_template_measures_only_the_variants_it_documents(tmp_path, measurements):
    root = make_project(tmp_path / "p", {"t.md": fixture_text("two_models.md")})
    other = tmp_path / "named.md"
    other.write_text(fixture_text("two_models.md"), encoding="utf-8")
    documented = [n for n in re.findall(r"- Name: (\S+)", fixture_text("two_models.md")) if n in list_models()]
    seen = []
    run.verify(load_settings(root), [other], progress=lambda name, cached=False: seen.append(name))
    assert sorted(seen) == sorted(documented) and len(documented) == 2
    seen.clear()
    run.verify(load_settings(root), progress=lambda name, cached=False: seen.append(name))
    assert len(seen) == 12  # the configured templates: the pages show every variant


def test_a_warm_verify_renders_no_page_and_a_changed_input_only_its_pages(built, monkeypatch, capsys):
    called = recording_pages(monkeypatch)
    code, out, _ = run_cli(["--project", str(built), "verify"], capsys)
    assert code == 0 and called == [], out
    context = built / "data" / "timm_context.csv"
    lines = context.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[2] = f"{float(fields[2]) - 0.001:.3f}"  # one context model's top-1: the family page shows it
    context.write_text("".join([lines[0], ",".join(fields), *lines[2:]]), encoding="utf-8")
    code, out, _ = run_cli(["--project", str(built), "verify", "--format", "json"], capsys)
    assert "family_page" in called  # and the verification page where the check of the file reports it
    assert not {"architecture_page", "glossary_page", "model_card", "render_diff_page", "check_templates"} & set(called)
    assert code == 1 and '"index.md"' in out
    # the templates' check passed on these very files (the build): an edited one is checked again
    glossary = built / "templates" / "pages" / "glossary.md"
    text = glossary.read_text(encoding="utf-8")
    glossary.write_text(text + "{% include 'pages/nowhere.md' %}\n", encoding="utf-8")
    code, _, err = run_cli(["--project", str(built), "verify"], capsys)
    assert called.count("check_templates") == 1 and code == 2, err
    assert f"templates/pages/glossary.md:{text.count(chr(10)) + 1}" in err and "nowhere.md" in err, err


@pytest.mark.slow  # a build and a verify; the warm-verify case above is the fast one
def test_fix_checks_again_and_renders_the_pages_once(built, seed_flops, monkeypatch, capsys):
    template = built / "templates" / "models" / "dla.md"
    original = template.read_text(encoding="utf-8")
    flops = re.search(r"FLOPs: (\d+)", original).group(1)
    template.write_text(original.replace(f"FLOPs: {flops}", f"FLOPs: {int(flops) + 7}", 1), encoding="utf-8")
    renders = []
    real = pages.render_docs
    monkeypatch.setattr(pages, "render_docs", lambda *a, **k: renders.append(1) or real(*a, **k))
    code, out, _ = run_cli(["--project", str(built), "verify", "--fix"], capsys)
    assert template.read_text(encoding="utf-8") == original  # the measured value written back
    assert code == 0 and renders == [1], out  # checked again after the fix: the pages agree


def _without_rendered(root, measured=()):
    """``root``'s store without its drawings, pages and compiled templates (and without the
    measurements of ``measured``): what a cold command renders, draws and measures."""
    import shutil

    from dla_docs.measure.stored import MeasurementShelf

    store = root / ".dla-docs-cache"
    for folder in ("svg", "pages", "jinja", "jinja-includes"):
        shutil.rmtree(store / folder, ignore_errors=True)
    for name in measured:
        entry = MeasurementShelf.entry_name(name, 224)
        (store / entry[:2] / f"{entry}.json").unlink()


def _differing(files):
    """The files that differ from the committed docs/ (made by the code before this change)."""
    from conftest import PROJECT, read_tree

    committed = read_tree(PROJECT / "docs")
    return sorted(name for name in set(committed) | set(files) if committed.get(name) != files.get(name))


def test_pages_from_graphs_drawn_and_inlined_now_equal_the_committed_ones(tmp_path, measurements):
    """Every graph drawn anew is made ready to inline by the thread that drew it: each file of
    docs/ equals the committed one."""
    root = copy_project(tmp_path / "p", measurements)
    _without_rendered(root)
    assert _differing(run.render(load_settings(root)).files) == []


@pytest.mark.slow  # starts the measuring server; the case above is the fast one
def test_pages_rendered_while_variants_are_measured_equal_the_committed_ones(tmp_path, measurements, monkeypatch):
    """Two variants measured now, in an order of the server's choosing after the stored ones;
    the page templates' includes compiled meanwhile: every file of docs/ is the same."""
    root = copy_project(tmp_path / "p", measurements)
    _without_rendered(root, measured=("dla46_c", "dla34"))
    compiled = []
    real = pages.compile_pages
    monkeypatch.setattr(pages, "compile_pages", lambda env: compiled.append(env) or real(env))
    seen = []
    rendered = run.render(load_settings(root), progress=lambda name, cached=False: seen.append((name, cached)))
    assert sorted(name for name, cached in seen if not cached) == ["dla34", "dla46_c"] and len(compiled) == 1
    assert _differing(rendered.files) == []
