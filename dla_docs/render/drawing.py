"""Draw many graphs at once: SVGs from the cache where it holds them, the rest in parallel.

An SVG is a pure function of the structure it shows, the code that turns structures into
DOT, and the ``dot`` that lays it out, so the cache key is a hash of all three: a warm run
builds no DOT and starts no ``dot`` at all. Missing graphs are built and drawn by
concurrent ``dot`` processes (threads only wait on them).
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dla_docs.measure.structure import ModelStructure
from dla_docs.render.graphs import render_svg, require_dot

if TYPE_CHECKING:
    import graphviz

_RENDER_DIR = Path(__file__).resolve().parent


class SvgStore(Protocol):
    def get_svg(self, digest: str) -> str | None: ...

    def put_svg(self, digest: str, svg: str) -> None: ...


@functools.cache
def dot_version() -> str:
    """``dot -V`` as it reports itself (on standard error)."""
    require_dot()
    done = subprocess.run(["dot", "-V"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip()


@functools.cache
def _drawing_code() -> str:
    """A hash of the modules that turn structures into DOT (``render/graph*``)."""
    digest = hashlib.sha256()
    for path in sorted([*_RENDER_DIR.glob("graph*.py"), *_RENDER_DIR.glob("graphs/*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def structure_digest(structure: ModelStructure) -> str:
    """What the structure depends on: the measuring code, the configuration, the size and
    the versions, i.e. its measurement cache key (a pure function of them)."""
    from dla_docs.measure.cache import cache_key

    return cache_key(structure.variant, structure.image_size)


class Drawing:
    """One graph to draw: what it shows (for the key) and how to build its DOT."""

    def __init__(self, kind: str, shows: Sequence[str], build: Callable[[], graphviz.Digraph]) -> None:
        self.kind, self.shows, self.build = kind, tuple(shows), build

    def digest(self) -> str:
        text = "\n".join((dot_version(), _drawing_code(), self.kind, *self.shows))
        return hashlib.sha256(text.encode()).hexdigest()


def draw_all(drawings: Sequence[Drawing], store: SvgStore | None = None,
             workers: int = 4) -> tuple[list[str], dict[str, str]]:
    """The SVG of each drawing, in order, and the ones newly drawn by digest (for
    :func:`keep`); only the drawings the store lacks are built and drawn."""
    digests = [d.digest() for d in drawings] if store is not None else [None] * len(drawings)
    found = [store.get_svg(k) if store is not None else None for k in digests]
    todo = [i for i, svg in enumerate(found) if svg is None]
    new: dict[str, str] = {}
    if todo:
        with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            for i, svg in zip(todo, pool.map(lambda i: render_svg(drawings[i].build()), todo)):
                found[i] = svg
                if digests[i] is not None:
                    new[digests[i]] = svg
    return found, new


def keep(new: dict[str, str], store: SvgStore | None) -> None:
    """Store newly drawn SVGs; called once the pages rendered, so that a command that fails
    on bad input leaves the cache as it was."""
    if store is None:
        return
    for digest, svg in new.items():
        try:
            store.put_svg(digest, svg)
        except OSError:
            return  # a read-only cache only costs speed
