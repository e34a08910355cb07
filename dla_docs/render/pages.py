"""Render every generated file of ``docs/`` in memory, from Jinja templates and measurements.

Rendering is pure: the result is a mapping of relative path to bytes, which the build
writes through a staging folder and ``dla-docs verify`` compares with the committed pages.
Same inputs, same bytes.

Templates run in the sandbox of :mod:`dla_docs.render.templating`: every value they print is
escaped as inert page text unless it is :class:`~markupsafe.Markup` made here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from dla_docs.checks.findings import FieldCheck, VerifyReport, finding_line
from dla_docs.config import Settings
from dla_docs.errors import InputError, Location
from dla_docs.fs import contained, shown
from dla_docs.measure.facts import Measurement
from dla_docs.measure.structure import ModelStructure
from dla_docs.metadata import Template, citations
from dla_docs.metadata.recorded import RES2NET_PAPER
from dla_docs.render import formatting
from dla_docs.render.card import Card, Svg
from dla_docs.render.citations import bibtex
from dla_docs.render.diff_pages import DiffPage, render_diff_page
from dla_docs.render.family_page import card_verdicts
from dla_docs.render.graphs import graph_css
from dla_docs.render.page_cache import PageCache

if TYPE_CHECKING:  # Jinja is imported where a page is rendered: a warm run takes every page from the store
    from jinja2.sandbox import SandboxedEnvironment

    from dla_docs.render.templating import LineMap
    from dla_docs.measure.stored import StoredFacts
    from dla_docs.render.site_model import Site

PAGE_TEMPLATES = "pages"
ASSETS = "assets"
SNIPPETS = "code_snippets.md"
# Search ranks: the family page first for the topics every card also covers; a card above the
# pages that merely name its variant; cards with equal matches in the family's order.
# (The family page's own rank, FAMILY_SEARCH_BOOST, is in family_page.py.)
CARD_SEARCH_BOOST, CARD_SEARCH_STEP = 2.0, 0.02


def card_search_boost(position: int) -> str:
    return f"{CARD_SEARCH_BOOST - CARD_SEARCH_STEP * position:.2f}"
BLOCK_NAMES = {"basic": "basic (two 3x3 convolutions)", "bottleneck": "bottleneck",
               "res2net": "Res2Net bottleneck (4 scales)"}


@dataclass(frozen=True)
class CheckRow:
    """A field check as the pages print it (numbers grouped, status marked)."""

    check: FieldCheck

    @property
    def field(self) -> str:
        return self.check.field

    @property
    def recorded_text(self) -> Markup:
        return formatting.page_text("-" if self.check.recorded is None else _number(self.check.recorded))

    @property
    def measured_text(self) -> Markup:
        return formatting.page_text("-" if self.check.measured is None else _number(self.check.measured))

    @property
    def status_text(self) -> Markup:
        """The status as plain text (no HTML), for Markdown read elsewhere (the Hub's cards)."""
        status = self.check.status
        label = {"ok": "\u2713 agrees", "drift": "\u2717 drift", "not recorded": "not recorded"}[status]
        detail = formatting.page_text(self.check.detail)
        suffix = Markup(" ({})").format(detail) if self.check.detail and status != "not recorded" else Markup("")
        return Markup(label) + suffix

    @property
    def status_html(self) -> Markup:
        status = self.check.status
        label = {"ok": "&#10003; agrees", "drift": "&#10007; drift", "not recorded": "not recorded"}[status]
        css = {"ok": "ok", "drift": "drift", "not recorded": "missing"}[status]
        detail = formatting.page_text(self.check.detail)
        suffix = Markup(" ({})").format(detail) if self.check.detail and status != "not recorded" else Markup("")
        return Markup('<span class="dla-status-{}">{}</span>{}').format(css, Markup(label), suffix)


def _number(value: Any) -> str:
    return formatting.integer(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


def part_rows(m: Measurement) -> list[dict[str, Any]]:
    levels = {lvl.name: lvl for lvl in m.levels}
    rows = []
    for name, part in m.parts.items():
        level = levels.get(name)
        rows.append({
            "name": name,
            "shape": f"{level.channels} x {level.height} x {level.width}" if level else "-",
            "stride": level.stride if level else "-",
            "parameters": part.parameters,
            "macs": part.macs,
        })
    return rows


def _skipped(m: Measurement) -> list[dict[str, Any]]:
    rows = []
    for op, calls in m.skipped_ops.items():
        elements = m.skipped_op_elements.get(op)
        rows.append({
            "name": op,
            "calls": calls,
            "elements_text": formatting.integer(elements) if elements is not None else "not sized",
            "share": formatting.percent(elements, m.macs, 3) if elements is not None else "-",
        })
    return rows


def _snippets(env: SandboxedEnvironment, name: str) -> str:
    from dla_docs.render.templating import render_template

    return render_template(env, SNIPPETS, model_name=Markup(name))


def model_card(env: SandboxedEnvironment, card: Card, verdict: Any, search_boost: str) -> str:
    """A variant's page: ``verdict`` is where it stands in the family (:func:`card_verdicts`)."""
    from dla_docs.render.templating import render_template

    config = card.config
    return render_template(
        env, f"{PAGE_TEMPLATES}/model_card.md",
        name=Markup(card.name), title=Markup(config.title), config=config, m=card.measurement,
        block_name=BLOCK_NAMES[config.block],
        checks=[CheckRow(c) for c in card.checks],
        parts=part_rows(card.measurement),
        skipped=_skipped(card.measurement),
        hda_svg=Markup(card.graphs.hda.inline),
        ida_svg=Markup(card.graphs.ida.inline),
        overview_svg=Markup(card.graphs.overview.inline),
        training=card.training,
        code=card.code,
        snippets=Markup(_snippets(env, card.name)),
        citations=[Markup(bibtex(c)) for c in citations.for_variant(config.block)],
        recorded=card.recorded,
        deploy=card.deploy,
        res2net_paper=RES2NET_PAPER,
        layers_note=card.layers_note,
        verdict=verdict,
        search_boost=search_boost,
    )


def citation_blocks() -> dict[str, Markup]:
    """The BibTeX of every cited work, for the family template: ``{{ citation.dla }}``."""
    return {name: Markup(bibtex(c)) for name, c in citations.TEMPLATE_NAMES.items()}


def family_prose(template: Template) -> str:
    """The family page's Markdown: the template without its model-index comment."""
    return template.before.rstrip() + "\n\n" + template.after.strip()


def prose_line_map(template: Template) -> LineMap:
    """Lines of :func:`family_prose` -> lines of the template file it was cut from.

    The prose is the Markdown before the model-index comment, a blank line, and the
    Markdown after it; lines after the comment shift by the comment's length.
    """
    before_lines = template.before.rstrip().count("\n") + 1
    after_offset = len(template.text) - len(template.after.lstrip())
    after_line = template.text.count("\n", 0, after_offset) + 1

    def line_of(line: int) -> int:
        return line if line <= before_lines else after_line + line - before_lines - 2

    return line_of


def split_intro(markdown: str) -> tuple[str, str]:
    """The prose before its first ``##`` heading, and the rest (the comparison goes between)."""
    match = re.search(r"^## ", markdown, re.M)
    return (markdown, "") if match is None else (markdown[:match.start()], markdown[match.start():])


def family_page(env: SandboxedEnvironment, site: Site) -> str:
    from dla_docs.render import family_page as page
    from dla_docs.render.templating import render_string

    prose = render_string(env, family_prose(site.family), site.family.path, prose_line_map(site.family),
                          model_name=Markup(site.cards[0].name), citation=citation_blocks())
    return page.family_page(env, site, split_intro(prose))


def structure_row(s: ModelStructure) -> dict[str, Any]:
    return {
        "name": Markup(s.variant),  # a registry name, not metadata: safe in links and code
        "block": s.block,
        "depths": ", ".join(str(stage.depth) for stage in s.stages),
        "roots": s.totals.roots,
        "blocks": s.totals.blocks,
        "channels": ", ".join(str(level.channels) for level in s.levels if level.name.startswith("level")),
    }


def architecture_page(env: SandboxedEnvironment, family_svg: Svg, facts: Sequence[StoredFacts]) -> str:
    """The family's structure: its figure, and a row per variant (``facts``, in the family's order)."""
    from dla_docs.render.templating import render_template

    return render_template(
        env, f"{PAGE_TEMPLATES}/architecture.md",
        family_svg=Markup(family_svg.inline), rows=[structure_row(f.facts.structure) for f in facts],
    )


def verification_page(env: SandboxedEnvironment, s: Settings, report: VerifyReport,
                      checks: Sequence[tuple[str, Sequence[FieldCheck]]]) -> str:
    """What was checked and how: ``checks`` are the cards' (variant, checked fields), in the family's order."""
    from dla_docs.render.templating import render_template

    return render_template(
        env, f"{PAGE_TEMPLATES}/verification.md",
        templates=[t.relative_to(s.root).as_posix() for t in s.templates],
        image_size=s.image_size, convention=s.convention,
        tolerance=f"{100 * s.file_size_tolerance:g}%",
        findings=[finding_line(f) for f in report.findings], checked=report.checked,
        table=[(Markup(name), [CheckRow(c) for c in shown]) for name, shown in checks],
        table_rows=sum(len(shown) for _, shown in checks),
        unchecked=report.unchecked_by_field(),  # recorded, not checked: (field, why, variants)
    )


def glossary_page(env: SandboxedEnvironment) -> str:
    """The terms the pages link at their first use (model-index, GMACs, Pareto front, tie...)."""
    from dla_docs.render.choose import resolution
    from dla_docs.render.templating import render_template

    return render_template(env, f"{PAGE_TEMPLATES}/glossary.md", resolution_at_78=resolution(78, 78))


def nav_file(names: Sequence[str], diffs: Sequence[DiffPage] = ()) -> str:
    """docs/.nav.yml, inherited by mkdocs.yml: the navigation in the zoo's order."""
    lines = ["# Generated by dla-docs build: the site's navigation, in the model zoo's order.", "nav:",
             "  - Family: index.md", "  - Architecture: architecture.md", "  - Model cards:"]
    lines += [f"      - {name}: models/{name}.md" for name in names]
    if diffs:
        lines += ["  - Variant diffs:"]
        lines += [f"      - {d.diff.a} \u2192 {d.diff.b}: {d.path}" for d in diffs]
    lines += ["  - Verification: verification.md", "  - Glossary: glossary.md", ""]
    return "\n".join(lines)


def _assets(templates_dir: Path, root: Path) -> dict[str, bytes]:
    """Every file under ``templates/assets``, copied as is; a link leading out of
    ``templates/`` is refused, so a build never publishes a file from elsewhere."""
    folder = templates_dir / ASSETS
    files = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        display = shown(path, root, resolve=False)
        target = path.resolve()
        if not contained(target, templates_dir):
            raise InputError(Location(display), "asset", f"is a link to {target}, outside templates/; refused")
        try:
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
        except OSError as exc:
            raise InputError(Location(display), "asset", f"cannot read: {exc.strerror or exc}") from None
    return files


_BLANK_LINES = re.compile(r"\n\n\n+")  # spelled out: a literal prefix makes re search for it fast (10x)


def _with_final_newline(text: str) -> str:
    text = _BLANK_LINES.sub("\n\n", text)
    return text.rstrip("\n") + "\n"


PAGES = ("index.md", "model_card.md", "architecture.md", "verification.md", "diff.md", "glossary.md")


def check_templates(settings: Settings, family: Template) -> None:
    """Compile every page template and the family prose, and follow their includes.

    Run before measuring and drawing, so that a template error is reported in a second
    rather than after the slow steps; rendering checks the same things again.
    """
    from dla_docs.render.templating import load_string, load_template, project_environment

    env = project_environment(settings.root)
    load_string(env, family_prose(family), family.path, prose_line_map(family))
    load_template(env, SNIPPETS)
    for page in PAGES:
        load_template(env, f"{PAGE_TEMPLATES}/{page}")


def compile_pages(env: SandboxedEnvironment) -> None:
    """Compile what the page templates include, so that rendering the pages compiles nothing:
    done while the measurements are under way, time a cold command has to spare (a warm one
    loads the compiled templates from the store when a page needs them)."""
    from dla_docs.render.templating import compile_included

    compile_included(env, [SNIPPETS, *(f"{PAGE_TEMPLATES}/{page}" for page in PAGES)])


def render_docs(site: Site, cache: PageCache | None = None) -> dict[str, bytes]:
    """Every file under ``docs/``, keyed by relative POSIX path. With ``cache``, a page whose
    inputs (its part of ``site``, the templates, the code) are unchanged is not rendered again
    (and the templates' environment is made only when a page is)."""
    templates_dir = site.settings.root / "templates"
    cache = cache or PageCache(None, templates_dir)

    def page(name: str, inputs: Any, render: Callable[..., str], *args: Any) -> None:
        text = cache.page(name, inputs, lambda: _with_final_newline(render(cache.environment(), *args)))
        files[name] = text.encode("utf-8")

    files: dict[str, bytes] = {".nav.yml": nav_file([card.name for card in site.cards], site.diffs).encode()}
    # the parts first, then the pages made of them: each part's digest is taken once
    verdicts = card_verdicts(site.cards)
    for position, card in enumerate(site.cards):
        verdict, boost = verdicts[card.name], card_search_boost(position)
        # its recorded facts and entry first: the family's recordings hold the same, digested once
        page(f"models/{card.name}.md", (card.recorded, card.entry, card, verdict, boost),
             model_card, card, verdict, boost)
        for kind in ("hda", "ida", "overview"):
            files[f"graphs/{card.name}-{kind}.svg"] = getattr(card.graphs, kind).text.encode()
    for diff in site.diffs:
        page(diff.path, (diff, site.cards), render_diff_page, templates_dir, diff, site.cards)
        files[diff.graph_path] = diff.svg.text.encode()
    facts = tuple(card.facts for card in site.cards)
    page("architecture.md", (site.family_svg, facts), architecture_page, site.family_svg, facts)
    checks = tuple((card.name, card.checks) for card in site.cards)
    verification = (site.settings, site.report, checks)
    page("verification.md", verification, verification_page, *verification)
    page("glossary.md", (), glossary_page)
    page("index.md", site, family_page, site)
    files["graphs/family.svg"] = site.family_svg.text.encode()
    files.update(_assets(templates_dir, site.settings.root))
    files["stylesheets/dla-graphs.css"] = graph_css().encode()
    return dict(sorted(files.items()))
