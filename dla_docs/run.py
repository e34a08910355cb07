"""Every command's flow: one function per command, called by the CLI (and by the tests) alone.

Each function takes the settings and plain values and composes the stages, each a function of
the one before: the project's inputs (:mod:`dla_docs.inputs`) -> the facts (the store's, the
rest measured) -> the checks (a :class:`~dla_docs.checks.findings.VerifyReport`) -> the site
model (:mod:`dla_docs.render.site_model`) -> the renderers (pages, the Hub's cards, CFF) ->
publishing. It returns a result for the CLI to print; nothing here formats output or knows an
option's spelling beyond the names that error messages quote.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dla_docs.checks.findings import Finding, VerifyReport
from dla_docs.config import Settings
from dla_docs.fs import shown
from dla_docs.inputs import Inputs, read_inputs, read_templates
from dla_docs.measure.facts import Measurement
from dla_docs.measure.runner import Measuring, start_measuring
from dla_docs.measure.stored import StoredFacts, measurement_shelf
from dla_docs.measure.structure import ModelStructure
from dla_docs.progress import Progress, no_progress
from dla_docs.store import Store, open_store
from dla_docs.zoo.variants import list_models

if TYPE_CHECKING:  # imported where used: a warm command needs none of them
    from dla_docs.checks.checkpoints import Checkpoints
    from dla_docs.checks.fix import FixResult
    from dla_docs.measure.diff import VariantDiff
    from dla_docs.publish.site import Published
    from dla_docs.render.page_cache import PageCache
    from dla_docs.render.site_graphs import SiteDrawings


# -- the stages, composed by the commands below --------------------------------------------


@contextmanager
def _started(settings: Settings, names: Sequence[str], no_cache: bool = False, progress: Progress = no_progress,
             image_size: int | None = None, jobs: int | None = None) -> Iterator[tuple[Store | None, Measuring]]:
    """The store, and the facts of ``names`` under way (the store's, the rest being measured:
    torch is imported by the measuring server while this process reads the inputs)."""
    store = open_store(settings.cache_dir, no_cache)
    with start_measuring(names, image_size or settings.image_size, measurement_shelf(store), progress,
                         jobs) as measuring:
        yield store, measuring


@dataclass
class _Rendering:
    """The render step's state: the page templates (compiled ones kept in the store), the
    drawings under way and the pages kept by the digest of their inputs."""

    env: Any
    drawings: SiteDrawings | None
    pages: PageCache

    def keep(self) -> None:
        """Store what was drawn, rendered and compiled anew: the command succeeded, so one that
        fails on bad input leaves the store as it was."""
        from dla_docs.render.compiled import remember_compiled

        if self.drawings is not None:
            self.drawings.keep()
        self.pages.keep()
        remember_compiled(self.env)


@contextmanager
def _rendering(settings: Settings, store: Store | None, draw: bool) -> Iterator[_Rendering]:
    from dla_docs.render.compiled import keep_compiled
    from dla_docs.render.page_cache import PageCache
    from dla_docs.render.site_graphs import SiteDrawings
    from dla_docs.render.templating import project_environment

    env = project_environment(settings.root)
    keep_compiled(env, store.templates if store else None)
    drawings = SiteDrawings(store.drawings if store else None) if draw else None
    try:
        yield _Rendering(env, drawings, PageCache(store.pages if store else None, settings.root / "templates"))
    finally:
        if drawings is not None:
            drawings.__exit__()  # waits for the drawings under way


def _inputs(settings: Settings, paths: Sequence[Path], pages: bool) -> Inputs:
    """The project's inputs; with ``pages``, the page templates are compiled too, so that a
    template error is reported in a second, not after measuring."""
    from dla_docs.render.pages import check_templates

    templates = read_templates(settings, paths)
    if pages:
        check_templates(settings, templates[0])
    return read_inputs(settings, templates)


def _facts(measuring: Measuring, drawings: SiteDrawings | None) -> dict[str, StoredFacts]:
    """Every variant's facts, in the order asked (waited for); with ``drawings``, each graph is
    drawn as soon as the facts it shows are known."""
    arriving = measuring.as_they_come()
    for _ in arriving if drawings is None else drawings.follow(arriving):
        pass
    facts = {name: measuring.found[name] for name in measuring.names}
    if drawings is not None:
        drawings.draw_family(facts)
    return facts


def _measurements(facts: Mapping[str, StoredFacts]) -> dict[str, Measurement]:
    return {name: stored.facts.measurement for name, stored in facts.items()}


def _check(inputs: Inputs, paths: Sequence[Path], facts: Mapping[str, StoredFacts],
           notes: Sequence[str]) -> VerifyReport:
    """The metadata checks of the templates at ``paths`` against the facts and the sources."""
    from dla_docs.checks.verify import verify_templates

    report = verify_templates(inputs.settings, inputs.at(paths), _measurements(facts), results=inputs.results,
                              benchmarks=inputs.benchmarks, context=inputs.context)
    report.notes.extend(notes)
    return report


@dataclass
class Measured:
    """The measurements asked for, in the order asked, and how they were measured (one line each)."""

    measurements: dict[str, Measurement]
    notes: list[str]
    structures: dict[str, ModelStructure] = field(default_factory=dict)  # read from the same recorded passes


def measure(settings: Settings, names: Sequence[str], image_size: int | None = None, no_cache: bool = False,
            jobs: int | None = None, progress: Progress = no_progress) -> Measured:
    """The measurements of ``names`` (in that order) at ``image_size`` (default: the project's)."""
    with _started(settings, names, no_cache, progress, image_size, jobs) as (_, measuring):
        results = measuring.results()
        return Measured({name: stored.facts.measurement for name, stored in results.items()}, measuring.notes,
                        {name: stored.facts.structure for name, stored in results.items()})


def diff(settings: Settings, a: str, b: str, image_size: int | None = None, no_cache: bool = False) -> VariantDiff:
    """What changes from variant ``a`` to variant ``b``."""
    from dla_docs.measure.diff import diff_variants

    found = measure(settings, [a, b], image_size, no_cache).measurements
    return diff_variants(found[a], found[b])


# -- verify ---------------------------------------------------------------------------------


@dataclass
class Verified:
    """What ``verify`` found, and what ``--fix`` changed."""

    report: VerifyReport
    fixes: list[FixResult] = field(default_factory=list)


def citation_findings(settings: Settings) -> list[Finding]:
    """``CITATION.cff`` against the citation records: the configured one (``citation``, required),
    or one in the project folder if it exists."""
    from dla_docs.checks.freshness import check_generated_file
    from dla_docs.render.citations import CFF_FILE, citation_cff

    path = settings.citation or settings.root / CFF_FILE  # required when configured
    return check_generated_file(path, shown(path, settings.root, resolve=False),
                                citation_cff(settings.root).encode("utf-8"), "run `dla-docs export cff`",
                                required=settings.citation is not None)


def deploy_record_findings(settings: Settings, notes: list[str]) -> list[Finding]:
    """The committed deploy record against the code and the installed versions (no export run)."""
    from dla_docs.checks.deploy import deploy_findings
    from dla_docs.zoo.variants import list_models

    findings, more = deploy_findings(settings.root, list_models())
    notes.extend(more)
    return findings


def _with_pages(inputs: Inputs, facts: Mapping[str, StoredFacts], report: VerifyReport, rendering: _Rendering,
                checkpoints: Checkpoints | None, own: bool, pages: bool) -> VerifyReport:
    """``report`` with the checkpoints and (for the configured templates) the generated files."""
    from dla_docs.checks.freshness import check_pages
    from dla_docs.checks.verify import with_checkpoints
    from dla_docs.render.pages import render_docs
    from dla_docs.render.site_model import site_model

    settings = inputs.settings
    rendered = render_docs(site_model(inputs, facts, report, rendering.drawings), rendering.pages) if pages else {}
    if checkpoints is not None:  # the pages show the report before what follows
        report = with_checkpoints(report, checkpoints)
    if not own:
        report.notes.append("pages not checked: they are generated from the configured templates")
        return report
    docs = shown(settings.docs_dir, settings.root)
    report.findings.extend(citation_findings(settings))
    report.findings.extend(deploy_record_findings(settings, report.notes))
    if not pages:
        report.notes.append(f"pages not checked: no generated pages under {docs}/ yet")
        return report
    report.findings.extend(check_pages(settings.docs_dir, rendered, docs))
    report.checked += 1
    return report


def verify(settings: Settings, templates: Sequence[Path] = (), checkpoint_dir: Path | None = None,
           fix: bool = False, add_missing: bool = False, no_cache: bool = False,
           progress: Progress = no_progress) -> Verified:
    """Check the templates (default: the configured ones) and the committed pages against the code;
    with ``checkpoint_dir``, File Size against real checkpoints; with ``fix``, write the measured
    values of the fields that drifted and check again. Named templates measure only the variants
    they document; the pages are rendered once, from the last check."""
    from dla_docs.checks.checkpoints import inspect_checkpoints
    from dla_docs.checks.fix import fix_templates
    from dla_docs.checks.freshness import has_pages
    from dla_docs.targets import entries_to_measure, resolve_folder, resolve_paths

    paths = resolve_paths(settings, templates)
    folder = resolve_folder(settings, checkpoint_dir, "--checkpoint-dir")
    own = set(paths) == set(settings.templates)
    pages = own and has_pages(settings.docs_dir)
    named = None if own else read_templates(settings, paths)  # read first: only their variants are measured
    with (_started(settings, list_models() if own else entries_to_measure(named), no_cache, progress)
          as (store, measuring), _rendering(settings, store, draw=pages) as rendering):
        inputs = _inputs(settings, paths, pages) if own else read_inputs(settings, named)
        checkpoints = None
        if folder is not None:  # a bad checkpoint is refused before anything is waited for
            checkpoints = inspect_checkpoints(settings, folder, entries_to_measure(inputs.at(paths)))
        facts = _facts(measuring, rendering.drawings)
        report = _check(inputs, paths, facts, measuring.notes)
        fixes = fix_templates(inputs.at(paths), report, _measurements(facts), add_missing) if fix else []
        if any(result.changed for result in fixes):
            inputs = inputs.reread()
            report = _check(inputs, paths, facts, measuring.notes)
        report = _with_pages(inputs, facts, report, rendering, checkpoints, own, pages)
        rendering.keep()
    return Verified(report, fixes)


# -- build ----------------------------------------------------------------------------------


@dataclass
class Rendered:
    """Every file of ``docs/`` as ``build`` would write it (``None`` when strict drift stopped it),
    the check behind it, the measurements it shows and what publishing it returned."""

    report: VerifyReport
    files: dict[str, bytes] | None
    measurements: dict[str, Measurement]
    published: Any = None


def render(settings: Settings, strict: bool = False, no_cache: bool = False, progress: Progress = no_progress,
           publish: Callable[[dict[str, bytes], Store | None], Any] | None = None) -> Rendered:
    """Measure, check, draw and render every file of ``docs/`` in memory, then ``publish`` them
    (given the store for its stamps); with ``strict``, drift renders nothing. What was drawn,
    rendered and compiled anew is kept in the store once publishing succeeded."""
    from dla_docs.render.pages import render_docs
    from dla_docs.render.site_model import site_model

    with (_started(settings, list_models(), no_cache, progress) as (store, measuring),
          _rendering(settings, store, draw=True) as rendering):
        inputs = _inputs(settings, settings.templates, pages=True)
        facts = _facts(measuring, rendering.drawings)
        report = _check(inputs, settings.templates, facts, measuring.notes)
        if strict and report.findings:
            return Rendered(report, None, _measurements(facts))
        files = render_docs(site_model(inputs, facts, report, rendering.drawings), rendering.pages)
        published = publish(files, store) if publish is not None else None
        rendering.keep()
    return Rendered(report, files, _measurements(facts), published)


@dataclass
class Built:
    """What ``build`` checked and published (``published`` is ``None`` when strict drift stopped it)."""

    report: VerifyReport
    published: Published | None


def build(settings: Settings, strict: bool = False, site: bool = True, builder: str = "mkdocs",
          no_cache: bool = False, progress: Progress = no_progress) -> Built:
    """Render every file of ``docs/`` (:func:`render`) and publish it, then build ``site/``; with
    ``strict``, drift writes nothing."""
    from dla_docs.publish.site import build_lock, publish

    def published(files: dict[str, bytes], store: Store | None) -> Published:
        return publish(settings, files, site=site, builder=builder, stamps=store.site if store else None)

    with build_lock(settings.root):
        rendered = render(settings, strict, no_cache, progress, published)
    return Built(rendered.report, rendered.published)


# -- deploy ---------------------------------------------------------------------------------


def deploy(settings: Settings, names: Sequence[str], check: bool = False, jobs: int | None = None,
           progress: Progress = no_progress, latency_progress: Progress = no_progress):
    """Measure the deployability of ``names`` (:mod:`dla_docs.deploy`); record it in the project's
    deploy record, or with ``check`` compare it with the record (everything but latency)."""
    from dla_docs.deploy.running import deploy as run_deploy
    from dla_docs.measure.runner import default_jobs

    return run_deploy(settings.root, names, list_models(), settings.image_size, check, jobs or default_jobs(),
                      progress, latency_progress)


# -- exports and graphs ---------------------------------------------------------------------


def export_hf(settings: Settings, names: Sequence[str], output: Path, no_cache: bool = False,
              progress: Progress = no_progress) -> list[Path]:
    """``<variant>/README.md`` and ``config.json`` for the Hugging Face Hub, from the same cards as
    the site (no graph is drawn); every card is validated before any file is written."""
    from dla_docs.publish.exports import refuse_managed, write_files
    from dla_docs.render.hf_card import check_hf_template, hf_files
    from dla_docs.render.site_model import site_model

    refuse_managed(output, settings)  # before anything is measured
    with (_started(settings, list_models(), no_cache, progress) as (store, measuring),
          _rendering(settings, store, draw=False) as rendering):
        check_hf_template(settings)  # before the inputs are read
        inputs = _inputs(settings, settings.templates, pages=False)
        facts = _facts(measuring, None)
        files = hf_files(site_model(inputs, facts, _check(inputs, settings.templates, facts, measuring.notes)),
                         names, inputs.results)
        rendering.keep()
    return write_files(output, files, settings)


def export_cff(settings: Settings, output: Path | None = None) -> Path:
    """``CITATION.cff`` from the citations the pages show (default: the configured one, else in the
    project folder); never onto another of the project's managed files."""
    from dla_docs.publish.exports import write_file
    from dla_docs.render.citations import CFF_FILE, citation_cff

    own = settings.citation or settings.root / CFF_FILE
    target = output if output is not None else own
    write_file(target, citation_cff(settings.root).encode("utf-8"), settings, allow=(own,))
    return target


def graph(settings: Settings, name: str, kind: str = "hda", fmt: str = "svg", image_size: int | None = None,
          no_cache: bool = False, output: Path | None = None) -> bytes:
    """One aggregation graph of ``name`` as ``fmt`` (svg, png or the DOT source), drawn from its
    stored facts (measured first when the store lacks them); written to ``output`` when given."""
    from dla_docs.publish.exports import refuse_managed, write_file
    from dla_docs.render import graphs

    if fmt != "dot":
        graphs.require_dot()  # fail before measuring, not after
    if output is not None:
        refuse_managed(output, settings)
    with _started(settings, [name], no_cache, image_size=image_size) as (_, measuring):
        facts = measuring.results()[name].facts
    data = graphs.render(graphs.GRAPH_KINDS[kind](facts), fmt)
    if output is not None:
        write_file(output, data, settings)  # atomically; never onto the project's managed paths
    return data


def write_stdout(data: bytes) -> None:
    """Binary output on standard output (a graph without ``-o``)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
