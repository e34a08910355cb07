"""Every command's flow: one function per command, called by the CLI (and by the tests) alone.

Each function takes the settings and plain values and composes the stages of
:mod:`dla_docs.stages`, each a function of the one before: the project's inputs -> the facts ->
the checks -> the site model -> the renderers (pages, the Hub's cards, CFF) -> publishing. It
returns a result for the CLI to print; nothing here formats output or knows an option's
spelling beyond the names that error messages quote.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dla_docs import stages
from dla_docs.checks.findings import Finding, VerifyReport
from dla_docs.config import Settings
from dla_docs.fs import shown
from dla_docs.inputs import Inputs, read_inputs, read_templates
from dla_docs.measure.facts import Measurement
from dla_docs.measure.stored import StoredFacts
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


@dataclass
class Measured:
    """The measurements asked for, in the order asked, and how they were measured (one line each)."""

    measurements: dict[str, Measurement]
    notes: list[str]
    structures: dict[str, ModelStructure] = field(default_factory=dict)  # read from the same recorded passes


def measure(settings: Settings, names: Sequence[str], image_size: int | None = None, no_cache: bool = False,
            jobs: int | None = None, progress: Progress = no_progress) -> Measured:
    """The measurements of ``names`` (in that order) at ``image_size`` (default: the project's)."""
    with stages.started(settings, names, no_cache, progress, image_size, jobs) as (_, measuring):
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


def citation_findings(settings: Settings, pages: PageCache) -> list[Finding]:
    """``CITATION.cff`` against the citation records: the configured one (``citation``, required),
    or one in the project folder if it exists. The expected file is kept with the pages, by the
    digest of what it is made of."""
    from dla_docs.checks.freshness import check_generated_file
    from dla_docs.render.citations import CFF_FILE, cff_inputs, citation_cff

    path = settings.citation or settings.root / CFF_FILE  # required when configured
    expected = pages.page(CFF_FILE, cff_inputs(settings.root), lambda: citation_cff(settings.root))
    return check_generated_file(path, shown(path, settings.root, resolve=False), expected.encode("utf-8"),
                                "run `dla-docs export cff`", required=settings.citation is not None)


def deploy_record_findings(inputs: Inputs, notes: list[str]) -> list[Finding]:
    """The committed deploy record against the code and the installed versions (no export run)."""
    from dla_docs.checks.deploy import deploy_findings

    findings, more = deploy_findings(inputs.deploy_record, list_models())
    notes.extend(more)
    return findings


def _with_pages(inputs: Inputs, facts: Mapping[str, StoredFacts], report: VerifyReport, rendering: stages.Rendering,
                checkpoints: Checkpoints | None, own: bool, pages: bool) -> VerifyReport:
    """``report`` with the checkpoints and (for the configured templates) the generated files."""
    from dla_docs.checks.freshness import check_pages
    from dla_docs.checks.verify import with_checkpoints
    from dla_docs.render.pages import render_docs
    from dla_docs.render.site_model import site_model

    settings = inputs.settings
    rendered = (render_docs(site_model(inputs, facts, report, rendering.drawings,
                                       rendering.recordings(inputs, list(facts))), rendering.pages)
                if pages else {})
    if checkpoints is not None:  # the pages show the report before what follows
        report = with_checkpoints(report, checkpoints)
    if not own:
        report.notes.append("pages not checked: they are generated from the configured templates")
        return report
    docs = shown(settings.docs_dir, settings.root)
    report.findings.extend(citation_findings(settings, rendering.pages))
    report.findings.extend(deploy_record_findings(inputs, report.notes))
    if not pages:
        report.notes.append(f"pages not checked: no generated pages under {docs}/ yet")
        return report
    report.findings.extend(check_pages(settings.docs_dir, rendered, docs))
    report.checked += 1
    return report


def verify(settings: Settings, templates: Sequence[Path] = (), checkpoint_dir: Path | None = None,
           fix: bool = False, add_missing: bool = False, no_cache: bool = False,
           progress: Progress = no_progress) -> Verified:
    """Check the templates (default: the configured ones) and the committed pages against the code; with
    ``checkpoint_dir``, File Size against real checkpoints; with ``fix``, write the measured values of the fields
    that drifted and check again. Named templates measure only their variants; pages render once, from the last check."""
    from dla_docs.checks.freshness import has_pages
    from dla_docs.checks.verify import with_checkpoints
    from dla_docs.targets import entries_to_measure, resolve_folder, resolve_paths

    paths = resolve_paths(settings, templates)
    folder = resolve_folder(settings, checkpoint_dir, "--checkpoint-dir")
    own = set(paths) == set(settings.templates)
    pages = own and has_pages(settings.docs_dir)
    named = None if own else read_templates(settings, paths)  # read first: only their variants are measured
    with (stages.started(settings, list_models() if own else entries_to_measure(named), no_cache, progress)
          as (store, measuring), stages.rendering(settings, store, draw=pages) as rendering):
        parsed = stages.parsed_indexes(store)
        inputs = (stages.project_inputs(settings, paths, rendering if pages else None, parsed) if own
                  else read_inputs(settings, named))
        checkpoints = None
        if folder is not None:  # a bad checkpoint is refused before anything is waited for
            from dla_docs.checks.checkpoints import inspect_checkpoints

            checkpoints = inspect_checkpoints(settings, folder, entries_to_measure(inputs.at(paths)))
        facts = stages.facts(measuring, rendering, inputs)
        report = stages.check(inputs, paths, facts, measuring.notes)
        seen = with_checkpoints(report, checkpoints) if checkpoints is not None else report  # what --fix writes
        fixes: list[FixResult] = []
        if fix:
            from dla_docs.checks.fix import fix_templates

            fixes = fix_templates(inputs.at(paths), seen, stages.measurements(facts), add_missing)
        if any(result.changed for result in fixes):
            inputs = inputs.reread()
            report = stages.check(inputs, paths, facts, measuring.notes)
        report = _with_pages(inputs, facts, report, rendering, checkpoints, own, pages)
        rendering.keep()
        parsed.keep()
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

    with (stages.started(settings, list_models(), no_cache, progress) as (store, measuring),
          stages.rendering(settings, store, draw=True) as rendering):
        parsed = stages.parsed_indexes(store)
        inputs = stages.project_inputs(settings, settings.templates, rendering, parsed)
        facts = stages.facts(measuring, rendering, inputs)
        report = stages.check(inputs, settings.templates, facts, measuring.notes)
        if strict and report.findings:
            return Rendered(report, None, stages.measurements(facts))
        site = site_model(inputs, facts, report, rendering.drawings, rendering.recordings(inputs, list(facts)))
        files = render_docs(site, rendering.pages)
        published = publish(files, store) if publish is not None else None
        rendering.keep()
        parsed.keep()
    return Rendered(report, files, stages.measurements(facts), published)


@dataclass
class Built:
    """What ``build`` checked and published (``published`` is ``None`` when strict drift stopped it)."""

    report: VerifyReport
    published: Published | None


def build(settings: Settings, strict: bool = False, site: bool = True, builder: str = "mkdocs",
          no_cache: bool = False, progress: Progress = no_progress) -> Built:
    """Render every file of ``docs/`` (:func:`render`) and publish it, then build ``site/``; with
    ``strict``, drift writes nothing."""
    from dla_docs.publish.journal import build_lock
    from dla_docs.publish.site import publish

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
    with (stages.started(settings, list_models(), no_cache, progress) as (store, measuring),
          stages.rendering(settings, store, draw=False) as rendering):
        rendering.environment()  # the cards' template is compiled, or taken from the store
        check_hf_template(settings)  # before the inputs are read
        parsed = stages.parsed_indexes(store)
        inputs = stages.project_inputs(settings, settings.templates, parsed=parsed)
        facts = stages.facts(measuring, None)
        files = hf_files(site_model(inputs, facts, stages.check(inputs, settings.templates, facts, measuring.notes)),
                         names, inputs.results)
        rendering.keep()
        parsed.keep()
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
    with stages.started(settings, [name], no_cache, image_size=image_size) as (_, measuring):
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
