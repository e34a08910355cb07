"""Draw many graphs at once: SVGs from the cache where it holds them, the rest in parallel.

An SVG is a pure function of its DOT source and the ``dot`` that laid it out, so the cache
key is the hash of both; a warm run starts no ``dot`` at all. Missing ones are drawn by
concurrent ``dot`` processes (threads only wait on them).
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import graphviz

from dla_docs.render.graphs import render_svg, require_dot


class SvgStore(Protocol):
    def get_svg(self, digest: str) -> str | None: ...

    def put_svg(self, digest: str, svg: str) -> None: ...


@functools.cache
def dot_version() -> str:
    """``dot -V`` as it reports itself (on standard error)."""
    require_dot()
    done = subprocess.run(["dot", "-V"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip()


def svg_digest(graph: graphviz.Digraph) -> str:
    return hashlib.sha256(f"{dot_version()}\n{graph.source}".encode()).hexdigest()


def draw_all(graphs: Sequence[graphviz.Digraph], store: SvgStore | None = None, workers: int = 4) -> list[str]:
    """The SVG of each graph, in order."""
    digests = [svg_digest(g) for g in graphs] if store is not None else [None] * len(graphs)
    found = [store.get_svg(d) if store is not None else None for d in digests]
    todo = [i for i, svg in enumerate(found) if svg is None]
    if todo:
        with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            for i, svg in zip(todo, pool.map(lambda i: render_svg(graphs[i]), todo)):
                found[i] = svg
                if store is not None:
                    try:
                        store.put_svg(digests[i], svg)
                    except OSError:
                        pass  # a read-only cache only costs speed
    return found
