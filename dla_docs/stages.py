"""The stages as functions, composed by the commands of :mod:`dla_docs.run`.

Project inputs (:func:`project_inputs`: the settings, templates and sources) -> facts
(:func:`started`, :func:`facts`: the store's, the rest measured) -> checks (:func:`check`: data
only, a :class:`~dla_docs.checks.findings.VerifyReport`) -> the site model
(:func:`dla_docs.render.site_model.site_model`) -> renderers (:func:`rendering` holds their
state: drawings, kept pages, compiled templates) -> publishing. Each takes what the one before
returned; nothing here knows an option name or an output format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dla_docs.checks.findings import VerifyReport
from dla_docs.config import Settings
from dla_docs.inputs import Inputs, read_inputs, read_templates
from dla_docs.measure.facts import Measurement
from dla_docs.measure.runner import Measuring, start_measuring
from dla_docs.measure.stored import StoredFacts, measurement_shelf
from dla_docs.progress import Progress, no_progress
from dla_docs.store import Store, open_store

if TYPE_CHECKING:  # imported where used: a warm command needs none of them
    from dla_docs.metadata.stored import ParsedIndexes
    from dla_docs.render.page_cache import PageCache
    from dla_docs.render.site_graphs import SiteDrawings
    from dla_docs.render.site_model import Recordings


@contextmanager
def started(settings: Settings, names: Sequence[str], no_cache: bool = False, progress: Progress = no_progress,
             image_size: int | None = None, jobs: int | None = None) -> Iterator[tuple[Store | None, Measuring]]:
    """The store, and the facts of ``names`` under way (the store's, the rest being measured:
    torch is imported by the measuring server while this process reads the inputs)."""
    store = open_store(settings.cache_dir, no_cache)
    with start_measuring(names, image_size or settings.image_size, measurement_shelf(store), progress,
                         jobs) as measuring:
        yield store, measuring


class Rendering:
    """The render step's state: the page templates' environment (made when something must be
    rendered, its compiled templates kept in the store), the drawings under way and the pages
    kept by the digest of their inputs."""

    def __init__(self, settings: Settings, store: Store | None, draw: bool) -> None:
        from dla_docs.render.page_cache import PageCache

        self.root = settings.root
        self.templates = store.templates if store is not None else None
        self.env: Any = None
        self.drawings: SiteDrawings | None = None  # None: no page is rendered
        self._recorded: tuple[Inputs, tuple[str, ...], Recordings] | None = None
        if draw:
            from dla_docs.render.site_graphs import SiteDrawings

            self.drawings = SiteDrawings(store.drawings if store is not None else None)
        self.pages = PageCache(store.pages if store is not None else None, settings.root / "templates",
                               self.environment)

    def environment(self) -> Any:
        """The project's templates' environment, loading compiled templates from the store (made
        at the first call: a warm run that renders nothing imports no Jinja)."""
        if self.env is None:
            from dla_docs.render.compiled import keep_compiled
            from dla_docs.render.templating import project_environment

            self.env = project_environment(self.root)
            keep_compiled(self.env, self.templates)
        return self.env

    def recordings(self, inputs: Inputs, names: Sequence[str]) -> Recordings:
        """What the recorded sources of ``inputs`` say of ``names``: made once (while the variants
        are measured, when they are), again only for other inputs (``--fix`` read the templates
        again)."""
        from dla_docs.render.site_model import recordings

        if self._recorded is None or self._recorded[0] is not inputs or self._recorded[1] != tuple(names):
            self._recorded = (inputs, tuple(names), recordings(inputs, names))
        return self._recorded[2]

    def keep(self) -> None:
        """Store what was drawn, rendered and compiled anew: the command succeeded, so one that
        fails on bad input leaves the store as it was."""
        if self.drawings is not None:
            self.drawings.keep()
        self.pages.keep()
        if self.env is not None:
            from dla_docs.render.compiled import remember_compiled

            remember_compiled(self.env)


@contextmanager
def rendering(settings: Settings, store: Store | None, draw: bool) -> Iterator[Rendering]:
    state = Rendering(settings, store, draw)
    try:
        yield state
    finally:
        if state.drawings is not None:
            state.drawings.__exit__()  # waits for the drawings under way


TEMPLATES_CHECKED = "templates checked"  # the page cache's name for the page templates' verdict


def project_inputs(settings: Settings, paths: Sequence[Path], rendering: Rendering | None = None,
                   parsed: ParsedIndexes | None = None) -> Inputs:
    """The project's inputs; with ``rendering``, the page templates are compiled too, so that a
    template error is reported in a second, not after measuring (unless they passed on these
    very files and this code before: the verdict is kept with the pages). With ``parsed``
    (:func:`parsed_indexes`), a model-index block parsed before from the same text is taken
    from the store; the ones parsed now are kept there by its ``keep()``, once the command
    succeeded."""
    templates = read_templates(settings, paths, parsed)
    if rendering is not None:
        family = templates[0]

        def check() -> None:
            from dla_docs.render.pages import check_templates

            rendering.environment()  # the command's environment: compiled templates from the store
            check_templates(settings, family)

        rendering.pages.checked(TEMPLATES_CHECKED, (family, Path(family.path).resolve()), check)
    return read_inputs(settings, templates)


def parsed_indexes(store: Store | None) -> ParsedIndexes:
    """The model-index blocks kept in ``store`` (none without one)."""
    from dla_docs.metadata.stored import ParsedIndexes

    return ParsedIndexes(store.indexes if store is not None else None)


def facts(measuring: Measuring, rendering: Rendering | None = None, inputs: Inputs | None = None
          ) -> dict[str, StoredFacts]:
    """Every variant's facts, in the order asked (waited for). With ``rendering`` (pages to
    render), each graph is drawn as soon as the facts it shows are known; and while variants are
    being measured (time a cold command has to spare), the page templates' includes are compiled
    and what the pages show of ``inputs``' recorded sources alone is made (the throughput plot)."""
    arriving = measuring.as_they_come()
    drawings = rendering.drawings if rendering is not None else None
    if drawings is not None:
        if measuring.missing:
            from dla_docs.render.pages import compile_pages

            compile_pages(rendering.environment())
            if inputs is not None:
                rendering.recordings(inputs, measuring.names).throughput  # noqa: B018 -- drawn now
        arriving = drawings.follow(arriving)
    for _ in arriving:
        pass
    facts = {name: measuring.found[name] for name in measuring.names}
    if drawings is not None:
        drawings.draw_family(facts)
    return facts


def measurements(facts: Mapping[str, StoredFacts]) -> dict[str, Measurement]:
    return {name: stored.facts.measurement for name, stored in facts.items()}


def check(inputs: Inputs, paths: Sequence[Path], facts: Mapping[str, StoredFacts],
           notes: Sequence[str]) -> VerifyReport:
    """The metadata checks of the templates at ``paths`` against the facts and the sources."""
    from dla_docs.checks.verify import verify_templates

    report = verify_templates(inputs.settings, inputs.at(paths), measurements(facts), results=inputs.results,
                              benchmarks=inputs.benchmarks, context=inputs.context)
    report.notes.extend(notes)
    return report
