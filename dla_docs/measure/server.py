"""The measuring server: one process that imports torch once and measures in workers forked from it.

A command that has variants to measure starts it early (:func:`dla_docs.measure.runner.start_workers`),
so that torch is imported here while the command reads its templates; the command itself never
imports torch. (A process that has imported torch already, such as a test session, forks the
workers itself: :func:`measure_in_workers`.) Run as ``python -m dla_docs.measure.server PARENT_PID``; it talks to its parent over
its standard input and output (:mod:`multiprocessing.connection` frames):

- the parent sends ``(names, image_size, jobs)``; the server answers ``("done", name, facts)`` for
  each variant as it is measured, or ``("error", name, exception)`` and stops that request;
- ``None`` or the end of its input ends the server at once.

Linux ends the server when its parent dies, and each worker when the server dies (a killed
command leaves no process behind).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing.connection import Connection

from dla_docs.measure.facts import VariantFacts

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the server ends when its input closes
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _worker_init(server: int) -> None:
    import torch

    die_with_parent(server)
    torch.set_num_threads(1)


def measure_in_workers(names: Sequence[str], image_size: int, jobs: int) -> Iterator[tuple[str, VariantFacts]]:
    """Measure ``names`` (in that order) in ``jobs`` workers forked from this process, which
    imports torch first; yields ``(name, facts)`` as each is done and raises the first failure."""
    from dla_docs.measure.core import measure_facts

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(measure_facts, name, image_size): name for name in names}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()


def _answer(out: Connection, names: list[str], image_size: int, jobs: int) -> None:
    name = None
    try:
        for name, facts in measure_in_workers(names, image_size, jobs):
            out.send(("done", name, facts))
    except Exception as exc:  # noqa: BLE001 -- handed to the parent, which raises it
        try:
            out.send(("error", name, exc))
        except Exception:  # noqa: BLE001 -- an exception that cannot be pickled
            out.send(("error", name, RuntimeError(f"{type(exc).__name__}: {exc}")))


def main(argv: list[str]) -> None:
    die_with_parent(int(argv[0]))
    requests = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a stray print goes to standard error, not into the answers
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    import dla_docs.measure.core  # noqa: F401 -- torch and the measuring code, once, before any fork

    while True:
        try:
            request = requests.recv()
        except EOFError:
            break
        if request is None:
            break
        _answer(answers, *request)
    sys.stderr.flush()
    os._exit(0)  # nothing to tear down: the parent waits for this exit


if __name__ == "__main__":
    main(sys.argv[1:])
