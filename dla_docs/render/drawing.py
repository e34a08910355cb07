"""Draw graphs as their data arrives: SVGs from the store where it holds them, the rest in parallel.

An SVG is a pure function of what it shows (the facts of its variants, named by their
content digest), the code that turns facts into DOT and the ``dot`` that lays it out, so
its key in the store is a hash of the three: a warm run builds no DOT. Missing graphs are
built and drawn by concurrent ``dot`` processes (threads only wait on them), starting as
soon as a variant's facts are known, while the others are still being measured.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from dla_docs.render.card import Svg
from dla_docs.render.graphs import render_svg, require_dot
from dla_docs.store import DrawingShelf, package_code, put_pending

if TYPE_CHECKING:
    import graphviz


@functools.cache
def dot_version() -> str:
    """``dot -V`` as it reports itself (on standard error)."""
    require_dot()
    done = subprocess.run(["dot", "-V"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip()


class Drawing:
    """One graph to draw: what it shows (content digests, for the key) and how to build its DOT."""

    def __init__(self, kind: str, shows: Sequence[str], build: Callable[[], graphviz.Digraph]) -> None:
        self.kind, self.shows, self.build = kind, tuple(shows), build

    def digest(self, dot: str) -> str:
        """The key of the SVG: ``dot`` (its version), the code, the kind and what it shows."""
        text = "\n".join((dot, package_code(), self.kind, *self.shows))
        return hashlib.sha256(text.encode()).hexdigest()


class Drawer:
    """Draws :class:`Drawing` s in a few threads; :meth:`keep` stores what it drew anew.

    Use as a context manager: leaving it waits for the drawings under way.
    """

    def __init__(self, shelf: DrawingShelf | None = None, workers: int = 4) -> None:
        self.shelf = shelf
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.new: dict[str, str] = {}
        # ``dot -V`` (a process) is asked at once, while the command reads its inputs: every key needs it
        self.dot = self.pool.submit(dot_version) if shelf is not None else None

    def __enter__(self) -> Drawer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def draw(self, drawing: Drawing) -> Future[Svg]:
        """The SVG of ``drawing``, from the store or being drawn (and made ready to inline)."""
        digest = drawing.digest(self.dot.result()) if self.dot is not None else None
        svg = self.shelf.get(digest) if digest is not None else None
        if svg is not None:
            done: Future[Svg] = Future()
            done.set_result(Svg(svg))  # inlined if a page is rendered again
            return done
        return self.pool.submit(self._draw, drawing, digest)

    def _draw(self, drawing: Drawing, digest: str | None) -> Svg:
        svg = Svg(render_svg(drawing.build()))
        if digest is not None:
            self.new[digest] = svg.text
        svg.inline  # noqa: B018 -- its pages will inline it: done here, while the measuring goes on
        return svg

    def keep(self) -> None:
        """Store the SVGs drawn anew; called once the command succeeded, so that one failing on
        bad input leaves the store as it was."""
        put_pending(self.shelf, self.new)
