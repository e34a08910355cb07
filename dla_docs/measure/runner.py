"""Measure many variants: cached results first, the rest in parallel across the cores.

Workers are forked (cheap: torch is imported before the fork) and each runs one intra-op thread,
so N cores trace N variants at once; the largest variants are started first so that the
last worker does not finish alone.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from dla_docs.measure.cache import MeasurementCache
from dla_docs.measure.record import Measurement, VariantFacts
from dla_docs.measure.spec import check_image_size
from dla_docs.zoo.variants import get_config

log = logging.getLogger(__name__)

Progress = Callable[[str, bool], None]  # (variant, came from cache)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker when its parent dies (a killed build leaves no workers)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers still end when their queue closes
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _worker_init(parent: int) -> None:
    import torch

    _die_with_parent(parent)
    torch.set_num_threads(1)


def _expected_cost(name: str) -> int:
    config = get_config(name)
    return sum(config.levels) * config.channels[-1]


def _measure_in_parallel(names: Sequence[str], image_size: int, jobs: int, done: Progress) -> dict[str, VariantFacts]:
    """Measure in forked workers (torch is imported here, only when something must be measured)."""
    from dla_docs.measure.core import measure_facts

    if jobs <= 1 or len(names) == 1:
        results = {}
        for name in names:
            results[name] = measure_facts(name, image_size)
            done(name, False)
        return results
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    order = sorted(names, key=_expected_cost, reverse=True)
    results = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(measure_facts, name, image_size): name for name in order}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done(futures[future], False)
    return results


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def measure_all(
    names: Sequence[str],
    image_size: int,
    cache: MeasurementCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> dict[str, VariantFacts]:
    """Measurement and structure for ``names`` (in that order), from ``cache`` where it holds them."""
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
    missing = [n for n in dict.fromkeys(names) if n not in found]
    jobs = min(jobs or default_jobs(), len(missing)) if missing else 0
    measured = _measure_in_parallel(missing, image_size, jobs, done) if missing else {}
    for facts in measured.values():
        if cache:
            try:
                cache.put(facts)
            except OSError as exc:
                log.warning("could not write the measurement cache at %s: %s", cache.root, exc)
    found.update(measured)
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
