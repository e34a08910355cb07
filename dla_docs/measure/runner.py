"""Measure variants: the store's entries first, the rest in the measuring server, in parallel.

:func:`start_measuring` is the one way to measure. It takes what the store holds and, when
something is missing, starts the measuring server (:mod:`dla_docs.measure.server`) at once,
so that it imports torch while the caller reads its templates; :meth:`Measuring.results`
then waits for the rest. The caller never imports torch, and tests take the same path.

Every wait is bounded and watches the server: it ends, with one line and exit status 2
(:class:`MeasuringLost`), when the server dies (naming the signal), when the server or a
worker has been stopped for a few seconds, or when no variant was finished for
:func:`progress_limit` seconds (``DLA_DOCS_MEASURE_TIMEOUT``, default 300). The server is
killed when the command leaves the ``with`` block, whatever ended it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from dla_docs.errors import DlaDocsError
from dla_docs.progress import Progress, no_progress
from dla_docs.measure.stored import MeasurementShelf, StoredFacts
from dla_docs.store.imports import NAME as RECORDER_NAME

DEFAULT_PROGRESS_LIMIT_S = 300.0
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder ``dla_docs`` is imported from
# the import recorder first (by its path, before any of the package), so that the code a
# measurement is stored under is the code as loaded (dla_docs.store.imports)
_RECORDER = Path(__file__).resolve().parents[1] / "store" / "imports.py"
# What the server process runs: its path set, the import recorder, then the server. A documented
# fault seam: the tests replace it with code that dies mid-answer (a server killed while writing).
SERVER_BOOT = ("import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
         "import importlib.util as u; s = u.spec_from_file_location(sys.argv[3], sys.argv[4]); "
         "m = sys.modules[s.name] = u.module_from_spec(s); s.loader.exec_module(m); m.record(); "
         "from dla_docs.measure.server import main; main(int(sys.argv[2]))")


class MeasuringLost(DlaDocsError):
    """The measuring server or a worker died, was stopped, or stopped making progress."""


def progress_limit() -> float:
    """Seconds a command waits for the next variant before giving up (``DLA_DOCS_MEASURE_TIMEOUT``)."""
    text = os.environ.get("DLA_DOCS_MEASURE_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_PROGRESS_LIMIT_S
    except ValueError:
        raise MeasuringLost(f"DLA_DOCS_MEASURE_TIMEOUT: {text!r} is not a number of seconds") from None
    if not value > 0:
        raise MeasuringLost(f"DLA_DOCS_MEASURE_TIMEOUT: {text!r} must be more than 0 seconds")
    return value


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def server_path() -> list[str]:
    """The server's module path: this process's, without the working folder (a ``torch.py`` or
    ``fvcore.py`` lying there must not be imported), and with the folder ``dla_docs`` came from."""
    here = os.path.realpath(os.getcwd())
    path = [p for p in sys.path if p and os.path.realpath(p) != here]
    return path + ([str(_PACKAGE_ROOT)] if str(_PACKAGE_ROOT) not in path else [])


class MeasuringServer:
    """The command's end of a running measuring server."""

    def __init__(self) -> None:
        # -I: no working folder on the path, no PYTHON* variables, no user site; the path is ours
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", SERVER_BOOT, json.dumps(server_path()), str(os.getpid()), RECORDER_NAME,
             str(_RECORDER)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.answers: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put(None)  # the server ended

    def request(self, names: Sequence[str], image_size: int, jobs: int, task: str = "measure",
                options: dict | None = None) -> None:
        """Ask for ``names`` to be measured (or handled by another ``task``, see the server)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"names": list(names), "image_size": image_size, "jobs": jobs,
                                                 "task": task, "options": options or {}}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            pass  # it ended: the next answer says how

    def end_input(self) -> None:
        """Ask nothing more: the server ends once it has answered (its workers first), while this
        process still handles the last answer."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass  # it ended: the answers say how

    def answers_for(self, count: int) -> Iterator[dict]:
        """The server's next ``count`` answers, each waited for boundedly (see the module's docstring)."""
        from dla_docs.measure.server import StoppedWatch

        stopped, limit = StoppedWatch(), progress_limit()
        for _ in range(count):
            deadline = time.monotonic() + limit
            while True:
                try:
                    line = self.answers.get(timeout=1.0)
                    break
                except queue.Empty:
                    pass
                if time.monotonic() > deadline:
                    raise MeasuringLost(f"the measuring server (pid {self.process.pid}) finished no variant in "
                                        f"{limit:.0f} s; set DLA_DOCS_MEASURE_TIMEOUT to wait longer")
                if stopped.stopped_too_long([self.process.pid]) is not None:
                    raise MeasuringLost(f"the measuring server (pid {self.process.pid}) has been stopped (SIGSTOP) "
                                        "for several seconds; nothing was written")
            if line is None:
                raise MeasuringLost(f"the measuring server (pid {self.process.pid}) "
                                    f"{self._ending()} before it answered; nothing was written")
            try:  # a server killed while it wrote leaves a line cut short, without its newline
                answer = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                raise MeasuringLost(f"the measuring server (pid {self.process.pid}) {self._ending()} in the middle "
                                    "of an answer; nothing was written")
            yield answer

    def _ending(self) -> str:
        from dla_docs.measure.server import how_it_ended

        try:
            return how_it_ended(self.process.wait(timeout=10))
        except subprocess.TimeoutExpired:
            return "closed its output"

    def close(self, finished: bool = False) -> None:
        """End the server and reap it: once it has ``finished`` answering, by closing its input (its
        workers end first, so their CPU time counts as the command's); else, or if it does not end
        within seconds, by killing it (its workers die with it)."""
        if finished and self.process.poll() is None and self.process.stdin is not None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class Measuring:
    """The measurements of some variants under way: what the store held, the rest being measured.

    Use as a context manager: leaving it kills the server, whatever happened.
    """

    def __init__(self, names: Sequence[str], image_size: int, shelf: MeasurementShelf | None,
                 progress: Progress = no_progress, jobs: int | None = None) -> None:
        from dla_docs.measure.spec import check_image_size
        from dla_docs.zoo.variants import get_config

        check_image_size(image_size)
        self.names = list(dict.fromkeys(names))
        for name in self.names:
            get_config(name)  # an unknown name fails before any work starts
        self.image_size, self.shelf, self.progress = image_size, shelf, progress
        self.found: dict[str, StoredFacts] = {}
        for name in self.names if _may_hold_entries(shelf) else ():
            hit = shelf.get(name, image_size)
            if hit is not None:
                self.found[name] = hit
                progress(name, True)
        self.missing = [n for n in self.names if n not in self.found]
        self.server: MeasuringServer | None = None
        self.measured_here = bool(self.missing)
        if self.missing:
            self.server = MeasuringServer()
            self.server.request(sorted(self.missing, key=_expected_cost, reverse=True), image_size,
                                min(jobs or default_jobs(), len(self.missing)))
            if shelf is not None:  # the answers' entry names, worked out while the server starts: a broken
                try:  # environment (a measured package's metadata gone) fails now
                    shelf.entry_name(self.missing[0], image_size)
                except BaseException:
                    self.close()  # the caller's `with` has not begun: nothing else would end the server
                    raise

    def __enter__(self) -> Measuring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, finished: bool = False) -> None:
        if self.server is not None:
            self.server.close(finished)
            self.server = None

    def as_they_come(self) -> Iterator[tuple[str, StoredFacts]]:
        """Every variant's facts: the stored ones first, then each as it is measured (and stored)."""
        from dla_docs.measure.facts import VariantFacts

        yield from list(self.found.items())
        if self.server is None:
            return
        for count, answer in enumerate(self.server.answers_for(len(self.missing)), 1):
            if count == len(self.missing):
                self.server.end_input()  # the last answer: the server and its workers end while it is stored
            if answer.get("kind") == "lost":
                raise MeasuringLost(str(answer.get("message")))
            if answer.get("kind") != "done":
                raise RuntimeError(f"measuring {answer.get('name')} failed in the measuring worker:\n"
                                   f"{answer.get('error')}")
            facts = VariantFacts.from_dict(answer["facts"])
            stored = self._keep(facts, answer["code"])
            self.found[facts.measurement.variant] = stored
            self.progress(facts.measurement.variant, False)
            yield facts.measurement.variant, stored
        self.close(finished=True)

    def _keep(self, facts, code: dict[str, str] | None) -> StoredFacts:
        if self.shelf is not None and code is not None:
            try:
                return self.shelf.put(facts, code)
            except OSError as exc:
                import logging

                logging.getLogger(__name__).warning("could not write the store at %s: %s",
                                                    self.shelf.folder.root, exc)
        from dla_docs.store import SealedFolder

        digest = SealedFolder.digest_of({"code": code, "facts": facts.to_dict()})
        return StoredFacts(facts, digest)

    @property
    def notes(self) -> list[str]:
        """How the variants were measured, one line each: the version guard's note when something
        was measured here, then each variant's own notes (a fallback to fvcore's trace, say)."""
        from dla_docs.measure.adapters import version_note

        guard = version_note() if self.measured_here else None
        return [*([guard] if guard else []),
                *(note for name in self.names if name in self.found for note in self.found[name].facts.notes)]

    def results(self) -> dict[str, StoredFacts]:
        """Every variant's facts, in the order asked, once all are there."""
        for _ in self.as_they_come():
            pass
        return {name: self.found[name] for name in self.names}


def start_measuring(names: Sequence[str], image_size: int, shelf: MeasurementShelf | None,
                    progress: Progress = no_progress, jobs: int | None = None) -> Measuring:
    """Start measuring ``names`` at ``image_size``: see :class:`Measuring`."""
    return Measuring(names, image_size, shelf, progress, jobs)


def _may_hold_entries(shelf: MeasurementShelf | None) -> bool:
    """Whether ``shelf`` can hold an entry to read: a cold store (no folder yet, or one never read,
    under CI) cannot, and then the server starts without the entries' names being worked out
    (the measured packages' versions: ``importlib.metadata``), which the stored answers need later."""
    return shelf is not None and shelf.folder.readable and shelf.folder.root.is_dir()


def _expected_cost(name: str) -> int:
    """A rough cost for ordering: the largest variants start first, so no worker finishes alone."""
    from dla_docs.zoo.variants import get_config

    config = get_config(name)
    return sum(config.levels) * config.channels[-1]
