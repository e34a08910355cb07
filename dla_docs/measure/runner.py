"""Measure many variants: cached results first, the rest in parallel across the cores.

The measuring happens in the server process (:mod:`dla_docs.measure.server`), in workers
forked from it once it has imported torch; the caller never imports torch (a caller that
already has, forks the workers itself). The server can be
started early (:func:`start_workers`), so that it imports torch while the caller reads its
templates. Each worker runs one intra-op thread, so N cores measure N variants at once; the
largest variants are started first so that the last worker does not finish alone.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from dla_docs.measure.cache import MeasurementCache
from dla_docs.measure.facts import Measurement, VariantFacts
from dla_docs.measure.spec import check_image_size
from dla_docs.zoo.variants import get_config

log = logging.getLogger(__name__)

Progress = Callable[[str, bool], None]  # (variant, came from cache)


class _Server:
    """The parent's end of a running measuring server."""

    def __init__(self) -> None:
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # where ``dla_docs`` is imported from
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen([sys.executable, "-m", "dla_docs.measure.server", str(os.getpid())],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.answers = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        atexit.register(self.close)  # a command that fails before measuring does not leave it running

    def measure(self, names: Sequence[str], image_size: int, jobs: int, done: Progress) -> dict[str, VariantFacts]:
        self.requests.send((list(names), image_size, jobs))
        results: dict[str, VariantFacts] = {}
        while len(results) < len(names):
            try:
                kind, name, payload = self.answers.recv()
            except EOFError:
                raise RuntimeError(f"the measuring server ended (exit status {self.process.wait()})") from None
            if kind == "error":
                raise payload
            results[name] = payload
            done(name, False)
        return results

    def close(self, kill: bool = True) -> None:
        """End the server and reap it: killed (it may be importing torch or measuring), or,
        once it has answered everything, asked to end, so that its workers end first."""
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                try:
                    self.requests.send(None)
                except OSError:
                    self.process.kill()
        self.process.wait()
        self.requests.close()
        self.answers.close()
        atexit.unregister(self.close)


_server: _Server | None = None


def start_workers(to_measure: int) -> None:
    """Start the measuring server for ``to_measure`` variants, if it is worth it (one variant
    is measured in this process) and not yet running; it imports torch and the measuring code
    in the background (seconds), while the caller goes on."""
    global _server
    if to_measure < 2 or "torch" in sys.modules:  # forking from here is cheaper than importing it again
        return
    if _server is None or _server.process.poll() is not None:
        _server = _Server()


def _stop_workers(kill: bool) -> None:
    global _server
    if _server is not None:
        _server.close(kill)
        _server = None


def _measure_facts(name: str, image_size: int) -> VariantFacts:
    from dla_docs.measure.core import measure_facts

    return measure_facts(name, image_size)


def _expected_cost(name: str) -> int:
    config = get_config(name)
    return sum(config.levels) * config.channels[-1]


def _measure_in_parallel(names: Sequence[str], image_size: int, jobs: int, done: Progress) -> dict[str, VariantFacts]:
    """Measure in the server's workers (one variant alone is measured here)."""
    if jobs <= 1 or len(names) == 1:
        results = {}
        for name in names:
            results[name] = _measure_facts(name, image_size)
            done(name, False)
        return results
    order = sorted(names, key=_expected_cost, reverse=True)
    start_workers(len(names))
    if _server is None:  # torch is imported here already
        from dla_docs.measure.server import measure_in_workers

        results = {}
        for name, facts in measure_in_workers(order, image_size, jobs):
            results[name] = facts
            done(name, False)
        return results
    try:
        results = _server.measure(order, image_size, jobs, done)
    except BaseException:
        _stop_workers(kill=True)
        raise
    _stop_workers(kill=False)
    return results


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def cached(names: Sequence[str], image_size: int, cache: MeasurementCache | None,
           progress: Progress | None = None) -> tuple[dict[str, VariantFacts], list[str]]:
    """What ``cache`` holds of ``names``, and the names it lacks (in order, once each)."""
    check_image_size(image_size)
    for name in names:
        get_config(name)  # fail on an unknown name before any work starts
    done = progress or (lambda name, cached: None)
    found: dict[str, VariantFacts] = {}
    for name in names:
        hit = cache.get_facts(name, image_size) if cache else None
        if hit is not None:
            found[name] = hit
            done(name, True)
    return found, [n for n in dict.fromkeys(names) if n not in found]


def measure_missing(missing: Sequence[str], image_size: int, cache: MeasurementCache | None = None,
                    jobs: int | None = None, progress: Progress | None = None) -> dict[str, VariantFacts]:
    """Measure ``missing`` (in parallel) and store the results in ``cache``."""
    if not missing:
        return {}
    done = progress or (lambda name, cached: None)
    measured = _measure_in_parallel(missing, image_size, min(jobs or default_jobs(), len(missing)), done)
    for facts in measured.values():
        if cache:
            try:
                cache.put(facts)
            except OSError as exc:
                log.warning("could not write the measurement cache at %s: %s", cache.root, exc)
    return measured


def measure_all(
    names: Sequence[str],
    image_size: int,
    cache: MeasurementCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> dict[str, VariantFacts]:
    """Measurement and structure for ``names`` (in that order), from ``cache`` where it holds them."""
    found, missing = cached(names, image_size, cache, progress)
    found.update(measure_missing(missing, image_size, cache, jobs, progress))
    return {name: found[name] for name in names}


def measure_many(
    names: Sequence[str],
    image_size: int,
    cache: MeasurementCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Measurement]:
    """Measurements for ``names`` (in that order), from ``cache`` where it holds them."""
    return {name: facts.measurement for name, facts in measure_all(names, image_size, cache, jobs, progress).items()}
