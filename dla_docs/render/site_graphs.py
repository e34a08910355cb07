"""The site's drawings, a render step: each graph drawn from the facts it shows, as they arrive.

The facts come as an iterator (the store's first, then each variant as it is measured);
:meth:`SiteDrawings.follow` passes them on unchanged and starts, for each, the variant's
three graphs and every diff graph whose two variants are now known, so that ``dot`` runs
while the other variants are still being measured. Every drawing is a
:class:`~dla_docs.render.drawing.Drawing` named by the digests of what it shows: the store
holds the SVGs of a warm run, and nothing is drawn again (:mod:`dla_docs.render.drawing`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from dla_docs.measure.stored import StoredFacts
from dla_docs.render.card import Graphs, Svg
from dla_docs.render.drawing import Drawer, Drawing
from dla_docs.store import DrawingShelf
from dla_docs.zoo.variants import list_models


@dataclass(frozen=True)
class DiffDrawing:
    """A diff pair's drawing: the second variant's HDA graph, the nodes that differ outlined."""

    changed: frozenset[str]
    svg: Future[Svg]


class SiteDrawings:
    """Every graph the pages show, drawn in a few threads. A context manager: leaving it waits
    for the drawings under way; :meth:`keep` stores the SVGs drawn anew."""

    def __init__(self, shelf: DrawingShelf | None) -> None:
        self.drawer = Drawer(shelf)
        self._variants: dict[str, dict[str, Future[Svg]]] = {}  # each variant's graphs, by kind
        self._diffs: dict[tuple[str, str], DiffDrawing] = {}
        self._family: Future[Svg] | None = None

    def __enter__(self) -> SiteDrawings:
        return self

    def __exit__(self, *exc: object) -> None:
        self.drawer.__exit__()

    def follow(self, arriving: Iterable[tuple[str, StoredFacts]]) -> Iterator[tuple[str, StoredFacts]]:
        """``arriving``, unchanged; each variant's graphs start as its facts pass."""
        from dla_docs.render import graphs

        known: dict[str, StoredFacts] = {}
        for name, stored in arriving:
            known[name] = stored
            self._variants[name] = {
                kind: self.drawer.draw(Drawing(kind, [stored.digest], functools.partial(build, stored.facts)))
                for kind, build in graphs.GRAPH_KINDS.items()}
            self._start_diffs(known)
            yield name, stored

    def _start_diffs(self, known: Mapping[str, StoredFacts]) -> None:
        from dla_docs.measure.diff import changed_nodes
        from dla_docs.render import graphs
        from dla_docs.render.diff_pages import pairs

        for a, b in pairs([n for n in list_models() if n in known]):
            if (a, b) in self._diffs:
                continue
            first, second = known[a].facts, known[b].facts
            changed = frozenset(changed_nodes(first.structure, second.structure))
            self._diffs[(a, b)] = DiffDrawing(changed, self.drawer.draw(Drawing(
                f"diff-{a}-{b}", [known[a].digest, known[b].digest],
                functools.partial(graphs.hda_graph, second.structure, changed, graphs.root_fields(second.measurement)))))

    def draw_family(self, facts: Mapping[str, StoredFacts]) -> None:
        """Start the family's figure (every variant's structure side by side)."""
        from dla_docs.render import graphs

        structures = [stored.facts.structure for stored in facts.values()]
        self._family = self.drawer.draw(Drawing("family", [s.digest for s in facts.values()],
                                                lambda: graphs.family_graph(structures)))

    def graphs(self, name: str) -> Graphs:
        """``name``'s three graphs (waited for)."""
        return Graphs(**{kind: svg.result() for kind, svg in self._variants[name].items()})

    def diff(self, a: str, b: str) -> tuple[frozenset[str], Svg] | None:
        """The changed nodes and the drawing of the pair ``a`` -> ``b`` (``None``: not drawn)."""
        found = self._diffs.get((a, b))
        return None if found is None else (found.changed, found.svg.result())

    def family(self) -> Svg:
        return self._family.result() if self._family is not None else Svg()

    def keep(self) -> None:
        self.drawer.keep()
