"""One run per command: read the templates once, measure once, check once, render once.

The flow is one way, zoo -> measurement -> checks -> rendering, and a :class:`Run` holds
each stage's result for the commands to use as views:

- ``build`` publishes :attr:`Run.files`;
- ``verify`` reports :attr:`Run.report` (the metadata checks) plus :meth:`Run.page_findings`
  (``docs/`` against :attr:`Run.files`), and ``--fix`` edits the templates from the same report.

Because build and verify render through the same run, a page that verify calls fresh is
byte-for-byte what a build would write. Nothing below this module calls back up into it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dla_docs.checks.findings import Finding, VerifyReport
from dla_docs.checks.freshness import check_pages, has_pages
from dla_docs.checks.verify import card_checks, load_results, verify_templates
from dla_docs.config import Settings
from dla_docs.fs import shown
from dla_docs.measure.record import Measurement, VariantFacts
from dla_docs.measure.structure import ModelStructure
from dla_docs.metadata import ModelEntry, Template, read_templates
from dla_docs.metadata.recorded import recorded_facts
from dla_docs.metadata.results import BenchmarkSource, ResultsSource, read_benchmarks
from dla_docs.render import diff_pages, graphs
from dla_docs.render.card import Card
from dla_docs.render.drawing import Drawing, draw_all, keep, structure_digest
from dla_docs.render.pages import Site, check_templates, render_docs
from dla_docs.render.templating import keep_compiled, project_environment, remember_compiled
from dla_docs.zoo.variants import VARIANTS, list_models

Step = Callable[[str, int], Callable[[str, bool], None]]  # (description, total) -> advance


def _noop_step(description: str, total: int) -> Callable[[str, bool], None]:
    return lambda item, cached=False: None


@dataclass
class Run:
    """What one command read, measured, checked and rendered; each computed once."""

    settings: Settings
    templates: list[Template]             # the configured templates, then any others checked
    measurements: dict[str, Measurement]  # every zoo variant, in the zoo's order
    structures: dict[str, ModelStructure]
    report: VerifyReport                  # the metadata checks of the checked templates
    files: dict[str, bytes] = field(default_factory=dict)  # every docs/ file
    drawn: dict[str, str] = field(default_factory=dict)    # SVGs drawn anew, by digest
    cache: Any = None
    results: ResultsSource | None = None  # the results source, read once

    def remember(self) -> None:
        """Keep the newly drawn SVGs and compiled templates in the cache: called when the
        command succeeded, so that one failing on bad input leaves the cache as it was."""
        keep(self.drawn, self.cache)
        remember_compiled(project_environment(self.settings.root))

    def page_findings(self) -> tuple[list[Finding], str | None]:
        """``docs/`` against the rendered files, or a note saying why pages were not checked."""
        docs = shown(self.settings.docs_dir, self.settings.root)
        citation = citation_findings(self.settings)
        if not self.files:
            return citation, f"pages not checked: no generated pages under {docs}/ yet"
        return check_pages(self.settings.docs_dir, self.files, docs) + citation, None


def citation_findings(settings: Settings) -> list[Finding]:
    """``CITATION.cff`` against the citation records: the configured one (``citation``, required),
    or one in the project folder if it exists."""
    from dla_docs.checks.freshness import check_generated_file
    from dla_docs.render.citations import CFF_FILE, citation_cff

    path = settings.citation or settings.root / CFF_FILE  # required when configured
    return check_generated_file(path, shown(path, settings.root, resolve=False),
                                citation_cff(settings.root).encode("utf-8"), "run `dla-docs export cff`",
                                required=settings.citation is not None)


def in_ci() -> bool:
    """Whether we run under CI (the ``CI`` variable that CI services set)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def cache_for(settings: Settings, no_cache: bool):
    """The measurement cache to read and write, or ``None`` with ``--no-cache``.

    Under CI the cache is written but never read: a CI run passes only on numbers it
    computed itself (``DLA_DOCS_TRUST_CACHE=1`` reads it anyway, on the user's word).
    """
    from dla_docs.measure.cache import MeasurementCache

    if no_cache or settings.cache_dir is None:
        return None
    trusted = not in_ci() or os.environ.get("DLA_DOCS_TRUST_CACHE") == "1"
    return MeasurementCache(settings.cache_dir, readable=trusted)


def read_project_templates(settings: Settings, extra: Sequence[Path] = (), pages: bool = True) -> list[Template]:
    """The configured templates and ``extra`` ones, each read once; with ``pages``, the page
    templates are compiled too, so a template error is reported in a second rather than
    after measuring."""
    paths = list(dict.fromkeys([*settings.templates, *extra]))
    # the configured ones were held inside the project when the settings were read; the
    # extra ones were named by the user (--template), who may name any file to be read
    templates = read_templates(paths, settings.root, allow_outside=True)
    if pages:
        check_templates(settings, templates[0])
    return templates


def pages_to_check(settings: Settings) -> bool:
    """Whether ``docs/`` holds generated pages to compare (before the first build it does not)."""
    return has_pages(settings.docs_dir)


def prepare(settings: Settings, no_cache: bool = False) -> None:
    """Set a command up before it reads its inputs: its templates compile from the cache, and
    when some variant will be measured (the cache has no entry for it), the measuring server
    starts now and imports torch meanwhile. The latter is a hint only: :func:`begin_measuring`
    reads the cache and starts the server if this did not."""
    from dla_docs.measure.runner import start_workers

    cache = cache_for(settings, no_cache)
    keep_compiled(project_environment(settings.root), cache)
    start_workers(sum(cache is None or not cache.may_hold(n, settings.image_size) for n in list_models()))


@dataclass
class Measuring:
    """The zoo's measurements under way: the ones at hand, and the variants left to measure."""

    facts: dict[str, VariantFacts]
    missing: list[str]
    advance: Callable[[str, bool], None]


def begin_measuring(settings: Settings, cache=None, step: Step = _noop_step,
                    known: Mapping[str, Measurement] | None = None) -> Measuring:
    """Take ``known`` measurements at the configured size as they are and the cached ones from
    ``cache``; when some are missing, start the measuring workers' server now, so that it
    imports torch while the caller reads its inputs."""
    from dla_docs.measure.runner import cached, start_workers

    known = {n: m for n, m in (known or {}).items() if m.image_size == settings.image_size}
    facts: dict[str, VariantFacts] = {}
    if known:
        from dla_docs.measure.extract import extract_structure

        facts = {n: VariantFacts(m, extract_structure(n, m)) for n, m in known.items()}
    names = [name for name in list_models() if name not in facts]
    advance = step("measuring", len(names)) if names else _noop_step("", 0)
    found, missing = cached(names, settings.image_size, cache, advance)
    facts.update(found)
    start_workers(len(missing))
    return Measuring(facts, missing, advance)


def finish_measuring(measuring: Measuring, settings: Settings, cache=None) -> dict[str, VariantFacts]:
    """Every variant's measurement and structure at the configured size, in the zoo's order."""
    from dla_docs.measure.runner import measure_missing

    measuring.facts.update(measure_missing(measuring.missing, settings.image_size, cache, None, measuring.advance))
    return {name: measuring.facts[name] for name in list_models()}


def _entries(templates: Sequence[Template]) -> dict[str, ModelEntry]:
    entries: dict[str, ModelEntry] = {}
    for template in templates:
        for entry in template.index.models:
            entries.setdefault(entry.name, entry)
    return entries


KINDS = (("hda", graphs.hda_graph), ("ida", graphs.ida_graph), ("overview", graphs.overview_graph))


def load_benchmarks(settings: Settings) -> BenchmarkSource | None:
    """The configured benchmark source, read and validated (``None`` when none is configured)."""
    if settings.benchmarks is None:
        return None
    return read_benchmarks(settings.benchmarks, settings.root, set(list_models()))


def render_site(settings: Settings, templates: Sequence[Template], measurements: Mapping[str, Measurement],
                structures: Mapping[str, ModelStructure], report: VerifyReport,
                svg_store=None, results: ResultsSource | None = None) -> tuple[dict[str, bytes], dict[str, str]]:
    """Draw the graphs, assemble one card per variant and render every file of ``docs/``;
    also returns the SVGs drawn anew (for the cache, once the command succeeded)."""
    site, new = assemble_site(settings, templates, measurements, structures, report, svg_store, results)
    return render_docs(site), new


def assemble_site(settings: Settings, templates: Sequence[Template], measurements: Mapping[str, Measurement],
                  structures: Mapping[str, ModelStructure], report: VerifyReport,
                  svg_store=None, results: ResultsSource | None = None) -> tuple[Site, dict[str, str]]:
    """Draw the graphs and assemble one card per variant: what every rendering shows; also
    the SVGs drawn anew. ``results`` (the results source) and the configured benchmarks give
    each card its recorded accuracy and throughput."""
    family = templates[0]
    entries = _entries(templates)
    text_of = {e.name: t.text for t in reversed(templates) for e in t.index.models}
    collections = [c for t in templates for c in t.index.collections]
    benchmarks = load_benchmarks(settings)
    names = list(measurements)
    digests = {n: structure_digest(structures[n]) for n in names}
    whole = Drawing("family", list(digests.values()), lambda: graphs.family_graph(list(structures.values())))
    per_variant = [Drawing(kind, [digests[n]], functools.partial(build, structures[n]))
                   for n in names for kind, build in KINDS]
    planned = diff_pages.plan(measurements, structures)
    diff_drawings = [Drawing(f"diff-{d.a}-{d.b}", [digests[d.a], digests[d.b]],
                             functools.partial(graphs.hda_graph, structures[d.b], changed))
                     for d, changed in planned]
    drawn, new = draw_all([whole, *per_variant, *diff_drawings], svg_store)
    diffs = [diff_pages.DiffPage(d, changed, svg)
             for (d, changed), svg in zip(planned, drawn[1 + len(per_variant):])]
    cards = []
    for i, name in enumerate(names):
        entry = entries.get(name)
        fields = report.fields_of(name) if entry is not None else []
        cards.append(Card(
            name=name, config=VARIANTS[name], measurement=measurements[name], structure=structures[name],
            entry=entry, checks=card_checks(entry, fields, measurements[name], settings),
            hda_svg=drawn[1 + len(KINDS) * i], ida_svg=drawn[2 + len(KINDS) * i],
            overview_svg=drawn[3 + len(KINDS) * i],
            recorded=recorded_facts(name, entry, text_of.get(name, ""), collections, results, benchmarks,
                                    VARIANTS[name].block == "res2net"),
        ))
    return Site(settings=settings, family=family, cards=cards, report=report, family_svg=drawn[0], diffs=diffs), new


def check(settings: Settings, templates: Sequence[Template], measurements: Mapping[str, Measurement],
          checkpoints=None, results: ResultsSource | None = None) -> VerifyReport:
    """The metadata checks of ``templates`` (for the configured ones: what the pages show)."""
    return verify_templates(settings, templates, measurements, checkpoints=checkpoints, results=results)


def configured(settings: Settings, templates: Sequence[Template]) -> list[Template]:
    return [t for t in templates if t.path in settings.templates]


def start(settings: Settings, no_cache: bool = False, step: Step = _noop_step,
          templates: Sequence[Template] | None = None,
          measurements: Mapping[str, Measurement] | None = None, render: bool = True) -> Run:
    """Read (unless ``templates`` were), measure, check and (with ``render``) render the
    project, each once.

    The checks and pages are those of the configured templates; other templates read for a
    command are checked by it (see :func:`check`).
    """
    cache = cache_for(settings, no_cache)
    measuring = begin_measuring(settings, cache, step, measurements)  # the workers' server starts now
    keep_compiled(project_environment(settings.root), cache)
    templates = list(templates) if templates is not None else read_project_templates(settings)
    results = load_results(settings)  # read once; a bad results file is reported before any measuring
    facts = finish_measuring(measuring, settings, cache)
    return _checked(settings, templates, {n: f.measurement for n, f in facts.items()},
                    {n: f.structure for n, f in facts.items()}, cache, render, results)


def _checked(settings: Settings, templates: list[Template], measurements: dict[str, Measurement],
             structures: dict[str, ModelStructure], cache, render: bool, results: ResultsSource | None) -> Run:
    own = configured(settings, templates)
    report = check(settings, own, measurements, results=results)
    files, drawn = render_site(settings, own, measurements, structures, report, cache, results) if render else ({}, {})
    return Run(settings, templates, measurements, structures, report, files, drawn, cache, results)


def reread(run: Run, no_cache: bool = False) -> Run:
    """The run after its templates changed on disk (``--fix``): read, check and render them
    again; the measurements and structures are the code's and stay."""
    templates = read_templates([t.path for t in run.templates], run.settings.root, allow_outside=True)  # as first read
    return _checked(run.settings, templates, run.measurements, run.structures, cache_for(run.settings, no_cache),
                    bool(run.files), run.results)


def generate_docs(settings: Settings, no_cache: bool = False, step: Step = _noop_step,
                  measurements: Mapping[str, Measurement] | None = None) -> Run:
    """Every file of ``docs/`` for the project as it stands, and the metadata check behind it."""
    return start(settings, no_cache, step, measurements=measurements)


def hf_export(settings: Settings, names: Sequence[str], no_cache: bool = False,
              step: Step = _noop_step) -> dict[str, bytes]:
    """``<variant>/README.md`` and ``config.json`` for the Hugging Face Hub, from the same cards
    as the site; every card is validated before any is returned."""
    from dla_docs.render.hf_card import check_hf_template, hf_files

    prepare(settings, no_cache)
    templates = read_project_templates(settings)
    check_hf_template(settings)
    run = start(settings, no_cache, step, templates=templates, render=False)
    site, _ = assemble_site(settings, configured(settings, templates), run.measurements, run.structures,
                            run.report, run.cache, run.results)
    return hf_files(site, names, run.results)
