"""One pass over the project: read its inputs once, measure once, check once, draw and render once.

A :class:`Run` starts the measuring (the store's entries, the server for the rest) before it
reads the templates, so torch is imported meanwhile; :attr:`Run.facts` waits for the
measurements, and starts drawing each variant's graphs as soon as its facts are known.
:meth:`Run.check` and :meth:`Run.render` are views of those facts. The commands of
:mod:`dla_docs.run` compose these steps; nothing here knows an option name or an output format.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from dla_docs.config import Settings
from dla_docs.measure.runner import start_measuring
from dla_docs.progress import Progress, no_progress
from dla_docs.measure.stored import StoredFacts, measurement_shelf
from dla_docs.store import open_store
from dla_docs.zoo.variants import VARIANTS, list_models

# The stages below are imported where used: the measuring server starts first, and imports
# torch while this process imports the rest (about 0.2 s of a cold command).
if TYPE_CHECKING:
    from dla_docs.checks.findings import VerifyReport
    from dla_docs.measure.facts import Measurement
    from dla_docs.metadata import Template
    from dla_docs.render.card import Card
    from dla_docs.render.pages import Site



def read_project_templates(settings: Settings, extra: Sequence[Path] = (), pages: bool = True) -> list[Template]:
    """The configured templates and ``extra`` ones, each read once; with ``pages``, the page
    templates are compiled too, so a template error is reported in a second, not after measuring."""
    paths = list(dict.fromkeys([*settings.templates, *extra]))
    # the configured ones were held inside the project when the settings were read; the
    # extra ones were named by the user (--template), who may name any file to be read
    from dla_docs.metadata import read_templates
    from dla_docs.render.pages import check_templates

    templates = read_templates(paths, settings.root)
    if pages:
        check_templates(settings, templates[0])
    return templates


class Run:
    """One command's pass over the project. A context manager: leaving it ends the measuring
    server and waits for the drawings under way, whatever happened."""

    def __init__(self, settings: Settings, no_cache: bool = False, progress: Progress = no_progress, *,
                 extra: Sequence[Path] = (), pages: bool = True, draw: bool = True,
                 before_reading: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.store = open_store(settings.cache_dir, no_cache)
        shelf = measurement_shelf(self.store)
        self.measuring = start_measuring(list_models(), settings.image_size, shelf, progress)
        try:
            from dla_docs.metadata.sources import load_benchmarks, load_results
            from dla_docs.metadata.context import load_context
            from dla_docs.render.compiled import keep_compiled
            from dla_docs.render.drawing import Drawer
            from dla_docs.render.templating import project_environment

            self.env = project_environment(settings.root)
            keep_compiled(self.env, self.store.templates if self.store else None)
            self.drawer = Drawer(self.store.drawings if self.store else None) if draw else None
            before_reading()
            self.templates = read_project_templates(settings, extra, pages)
            self.results = load_results(settings)  # a bad results file is reported before any waiting
            self.benchmarks = load_benchmarks(settings)
            self.context = load_context(settings.root)  # the context models (recorded, never measured)
        except BaseException:
            self.close()
            raise
        self._svgs: dict[str, list[Future[str]]] = {}  # each variant's hda, ida and overview graphs
        self._diffs: dict[tuple[str, str], tuple[frozenset[str], Future[str]]] = {}  # changed nodes, graph
        self._family: Future[str] | None = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.measuring.close()
        if getattr(self, "drawer", None) is not None:
            self.drawer.__exit__()

    # -- the facts ------------------------------------------------------------------------

    @functools.cached_property
    def facts(self) -> dict[str, StoredFacts]:
        """Every variant's facts at the configured size, in the zoo's order (waited for here); each
        graph is drawn as soon as the facts it shows are known."""
        for name, stored in self.measuring.as_they_come():
            if self.drawer is not None:
                self._draw_as_known(name, stored)
        facts = {name: self.measuring.found[name] for name in list_models()}
        if self.drawer is not None:
            from dla_docs.render import graphs
            from dla_docs.render.drawing import Drawing

            structures = [stored.facts.structure for stored in facts.values()]
            self._family = self.drawer.draw(Drawing("family", [f.digest for f in facts.values()],
                                                    lambda: graphs.family_graph(structures)))
        return facts

    def _draw_as_known(self, name: str, stored: StoredFacts) -> None:
        """Start drawing ``name``'s graphs, and each diff graph whose two variants are now known."""
        from dla_docs.measure.diff import changed_nodes
        from dla_docs.render import diff_pages, graphs
        from dla_docs.render.drawing import Drawing

        assert self.drawer is not None
        self._svgs[name] = [self.drawer.draw(Drawing(kind, [stored.digest], functools.partial(build, stored.facts)))
                            for kind, build in graphs.GRAPH_KINDS.items()]
        known = self.measuring.found
        for a, b in diff_pages.pairs([n for n in list_models() if n in known]):
            if (a, b) not in self._diffs:
                first, second = known[a].facts, known[b].facts
                changed = frozenset(changed_nodes(first.structure, second.structure))
                self._diffs[(a, b)] = changed, self.drawer.draw(Drawing(
                    f"diff-{a}-{b}", [known[a].digest, known[b].digest],
                    functools.partial(graphs.hda_graph, second.structure, changed,
                                      graphs.root_fields(second.measurement))))

    @property
    def measurements(self) -> dict[str, Measurement]:
        return {name: stored.facts.measurement for name, stored in self.facts.items()}

    def templates_at(self, paths: Sequence[Path]) -> list[Template]:
        return [t for t in self.templates if t.path in paths]

    @property
    def configured(self) -> list[Template]:
        return self.templates_at(self.settings.templates)

    def reread(self) -> None:
        """Read the templates again, after ``--fix`` changed them on disk (as first read)."""
        from dla_docs.metadata import read_templates

        self.templates = read_templates([t.path for t in self.templates], self.settings.root)

    # -- checks and pages -----------------------------------------------------------------

    def check(self, templates: Sequence[Template] | None = None) -> VerifyReport:
        """The metadata checks of ``templates`` (default: the configured ones, which the pages show)."""
        from dla_docs.checks.verify import verify_templates

        report = verify_templates(self.settings, self.configured if templates is None else templates,
                                  self.measurements, results=self.results, benchmarks=self.benchmarks,
                                  context=self.context)
        report.notes.extend(self.measuring.notes)
        return report

    def cards(self, report: VerifyReport) -> list[Card]:
        """One card per variant: every fact its pages show (graphs included when drawn)."""
        from dla_docs.checks.cards import card_checks
        from dla_docs.metadata.recorded import recorded_facts
        from dla_docs.render.card import Card

        entries = {}
        for template in self.configured:
            for entry in template.index.models:
                entries.setdefault(entry.name, entry)
        text_of = {e.name: t.text for t in reversed(self.configured) for e in t.index.models}
        collections = [c for t in self.configured for c in t.index.collections]
        deploy = self.deploy_cards()
        cards = []
        for name, stored in self.facts.items():
            entry, m = entries.get(name), stored.facts.measurement
            svgs = [f.result() for f in self._svgs[name]] if self.drawer is not None else ["", "", ""]
            cards.append(Card(
                name=name, config=VARIANTS[name], measurement=m, structure=stored.facts.structure, entry=entry,
                checks=card_checks(entry, report.fields_of(name) if entry is not None else [], m, self.settings),
                hda_svg=svgs[0], ida_svg=svgs[1], overview_svg=svgs[2],
                recorded=recorded_facts(name, entry, text_of.get(name, ""), collections, self.results,
                                        self.benchmarks, VARIANTS[name].block == "res2net"),
                deploy=deploy.get(name),
            ))
        return cards

    def deploy_cards(self) -> dict:
        """Each variant's deployability from the committed record (none when it cannot be read:
        ``verify`` reports that)."""
        from dla_docs.deploy.record import RecordError, deploy_cards, read_record
        from dla_docs.errors import DlaDocsError

        try:
            return deploy_cards(read_record(self.settings.root))
        except (RecordError, DlaDocsError):
            return {}

    def site(self, report: VerifyReport) -> Site:
        """What every rendering shows: the cards, the family figure and the diff pages."""
        from dla_docs.measure.diff import diff_variants
        from dla_docs.render.diff_pages import DiffPage, pairs
        from dla_docs.render.pages import Site

        cards = self.cards(report)  # waits for the facts, which starts every drawing
        m = self.measurements
        diffs = []
        for a, b in pairs(list(m)):  # in the family's order; none when nothing is drawn
            if (a, b) in self._diffs:
                changed, svg = self._diffs[(a, b)]
                diffs.append(DiffPage(diff_variants(m[a], m[b]), changed, svg.result()))
        return Site(settings=self.settings, family=self.configured[0], cards=cards, report=report,
                    family_svg=self._family.result() if self._family is not None else "", diffs=diffs,
                    context=self.context.rows if self.context is not None else ())

    def render(self, report: VerifyReport) -> dict[str, bytes]:
        """Every file of ``docs/``."""
        from dla_docs.render.pages import render_docs

        return render_docs(self.site(report))

    def remember(self) -> None:
        """Keep the newly drawn SVGs and compiled templates: called when the command succeeded,
        so that one failing on bad input leaves the store as it was."""
        from dla_docs.render.compiled import remember_compiled

        if self.drawer is not None:
            self.drawer.keep()
        remember_compiled(self.env)
