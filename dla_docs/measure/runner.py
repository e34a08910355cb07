"""Measure many variants: cached results first, the rest in parallel across the cores.

Workers are forked from a server process that imports torch once (``multiprocessing``'s
forkserver, preloaded with the measuring code); the caller never imports torch. The server
can be started early (:func:`start_workers`), so that it imports torch while the caller reads
its templates. Each worker runs one intra-op thread, so N cores measure N variants at once;
the largest variants are started first so that the last worker does not finish alone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing.context import BaseContext

from dla_docs.measure.cache import MeasurementCache
from dla_docs.measure.record import Measurement, VariantFacts
from dla_docs.measure.spec import check_image_size
from dla_docs.zoo.variants import get_config

log = logging.getLogger(__name__)

Progress = Callable[[str, bool], None]  # (variant, came from cache)


_MEASURING_CODE = "dla_docs.measure.core"  # what the server imports before forking workers


def _exit_with(command: int) -> None:
    """End this worker as soon as process ``command`` (the command it measures for) ends.

    The workers are the server's children, and the server outlives a killed command while
    any worker holds its pipe: each worker therefore waits on the command itself, in a thread,
    through a Linux process file descriptor (an event, not polling).
    """
    try:
        watched = os.pidfd_open(command)
    except ProcessLookupError:  # it ended before this worker started
        os._exit(1)
    except (AttributeError, OSError):  # not Linux: workers end when their queue closes
        return

    def watch() -> None:
        select.select([watched], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-command", daemon=True).start()


def _worker_init(command: int) -> None:
    import torch

    _exit_with(command)
    torch.set_num_threads(1)


def _measure_facts(name: str, image_size: int) -> VariantFacts:
    from dla_docs.measure.core import measure_facts

    return measure_facts(name, image_size)


def _context() -> BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([_MEASURING_CODE])
    return context


def start_workers() -> None:
    """Start the server the workers are forked from, if not yet running; it imports torch
    and the measuring code in the background (seconds), while the caller goes on."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _expected_cost(name: str) -> int:
    config = get_config(name)
    return sum(config.levels) * config.channels[-1]


def _measure_in_parallel(names: Sequence[str], image_size: int, jobs: int, done: Progress) -> dict[str, VariantFacts]:
    """Measure in workers forked from the server (one variant alone is measured here)."""
    if jobs <= 1 or len(names) == 1:
        results = {}
        for name in names:
            results[name] = _measure_facts(name, image_size)
            done(name, False)
        return results
    start_workers()
    order = sorted(names, key=_expected_cost, reverse=True)
    results = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_worker_init,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_measure_facts, name, image_size): name for name in order}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done(futures[future], False)
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
