"""The measuring server: one process that imports torch once and measures in workers forked from it.

A command that has variants to measure starts it (:class:`dla_docs.measure.runner.MeasuringServer`)
before it reads its templates, so that torch is imported here meanwhile; the command itself
never imports torch. It is started as ``python -I -c`` with the command's own module path
minus the working folder (see the runner), and talks to its parent in JSON lines, never
pickles:

- the parent writes ``{"names": [...], "image_size": N, "jobs": J}`` on standard input; the
  server answers one line per variant, ``{"kind": "done", "name", "facts", "code"}`` (the facts
  as their records' JSON and the :func:`~dla_docs.store.loaded_code` manifest of the worker),
  or ends the request with ``{"kind": "failed", "name", "error"}`` (a measuring error, with its
  traceback) or ``{"kind": "lost", "message"}`` (a worker died or was stopped);
- the end of its input ends the server.

Workers are :class:`multiprocessing.Process` children (forked, so torch is imported once), one
variant at a time each; the server waits on their pipes and on their process sentinels at
once, so a worker that dies is seen at once, and every second without news it looks at each
busy worker's state: one stopped (SIGSTOP) for :data:`STOPPED_GRACE_S` seconds ends the request.
Linux kills the server when its parent dies and each worker when the server dies
(``PR_SET_PDEATHSIG``), so a killed command leaves no process behind.
"""

from __future__ import annotations

import ctypes
import gc
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, BinaryIO

_PR_SET_PDEATHSIG = 1
STOPPED_GRACE_S = 5.0  # a process stopped this long is not coming back by itself
POLL_S = 1.0


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the server ends when its input closes
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def how_it_ended(exit_code: int | None) -> str:
    """``killed by SIGKILL`` / ``exited with status 3``, for a process's exit code (negative: a signal)."""
    if exit_code is None:
        return "is still running"
    if exit_code < 0:
        try:
            return f"was killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"was killed by signal {-exit_code}"
    return f"exited with status {exit_code}"


class StoppedWatch:
    """Which of some processes has been stopped (``T`` state) for longer than the grace period."""

    def __init__(self) -> None:
        self.since: dict[int, float] = {}

    def stopped_too_long(self, pids: Sequence[int]) -> int | None:
        import psutil

        now = time.monotonic()
        for pid in pids:
            try:
                stopped = psutil.Process(pid).status() in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP)
            except psutil.Error:
                stopped = False
            if not stopped:
                self.since.pop(pid, None)
                continue
            if now - self.since.setdefault(pid, now) >= STOPPED_GRACE_S:
                return pid
        return None


_IMPORTED: dict[str, str] = {}


def _code_measured() -> dict[str, str] | None:
    """The manifest of the code that measured (see :func:`dla_docs.store.loaded_code`), or ``None``
    when a source file changed on disk since the server imported it: then the file's digest no
    longer says what ran, and the measurement is used but not kept."""
    from dla_docs.store import loaded_code

    now = loaded_code()
    return None if any(now.get(name, digest) != digest for name, digest in _IMPORTED.items()) else now


def _worker(conn: Connection, server: int, servers_ends: list[Connection]) -> None:
    """A measuring worker: ``[name, image_size]`` in, one answer line out, until its pipe closes.

    The server's ends of the pipes (this one's and the earlier workers') came with the fork:
    closed here, so that each pipe ends when the server closes its end."""
    for end in servers_ends:
        end.close()
    import torch

    from dla_docs.measure.core import measure_facts

    die_with_parent(server)
    torch.set_num_threads(1)
    while True:
        try:
            name, image_size, task, options = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            os._exit(0)  # the server closed the pipe, or died: nothing more to do or to say
        try:
            if task != "measure":  # another stage's work in the same workers (dla_docs.deploy)
                answer = {"kind": "done", "name": name, **_other_task(task)(name, image_size, options)}
            else:
                facts = measure_facts(name, image_size)
                answer = {"kind": "done", "name": name, "facts": facts.to_dict(), "code": _code_measured()}
        except Exception:  # noqa: BLE001 -- a bug in measuring: the command reports it with this traceback
            answer = {"kind": "failed", "name": name, "error": traceback.format_exc()}
        try:
            conn.send_bytes(json.dumps(answer).encode())
        except OSError:
            os._exit(0)  # the server is gone; the command already says why


def _other_task(task: str):
    """The worker function of a task other than measuring: ``(name, image_size, options) -> dict``."""
    from dla_docs.deploy.worker import TASKS

    return TASKS[task]


class _Pool:
    """``jobs`` forked workers measuring ``names`` in order, answering on ``out`` as each is done."""

    def __init__(self, out: BinaryIO, jobs: int) -> None:
        context = multiprocessing.get_context("fork")
        self.out = out
        self.workers: list[tuple[Any, Connection]] = []
        for _ in range(jobs):
            mine, theirs = context.Pipe()
            ends = [mine, *(conn for _, conn in self.workers)]
            process = context.Process(target=_worker, args=(theirs, os.getpid(), ends), daemon=True)
            process.start()
            theirs.close()
            self.workers.append((process, mine))
        self.busy: dict[Connection, tuple[Any, str]] = {}

    def _send(self, answer: dict | bytes) -> None:
        self.out.write((answer if isinstance(answer, bytes) else json.dumps(answer).encode()) + b"\n")
        self.out.flush()

    def _lost(self, process: Any, what: str) -> None:
        self._send({"kind": "lost", "message": f"the measuring worker (pid {process.pid}){what}"})

    def run(self, names: list[str], image_size: int, task: str = "measure", options: dict | None = None) -> None:
        todo = list(names)
        idle = [conn for _, conn in self.workers]
        process_of = {conn: process for process, conn in self.workers}
        measuring = {process.pid: "" for process, _ in self.workers}  # " measuring <variant>" while busy
        watch, next_look = StoppedWatch(), time.monotonic() + POLL_S
        while todo or self.busy:
            while todo and idle:
                conn, name = idle.pop(), todo.pop(0)
                self.busy[conn] = (process_of[conn], name)
                measuring[process_of[conn].pid] = f" measuring {name}"
                try:
                    conn.send_bytes(json.dumps([name, image_size, task, options or {}]).encode())
                except OSError:
                    pass  # it died: its sentinel says how
            sentinels = {process.sentinel: process for process, _ in self.workers}
            ready = wait([*self.busy, *sentinels], timeout=POLL_S)
            for conn in [r for r in ready if r in self.busy]:
                try:
                    answer = conn.recv_bytes()
                except (EOFError, OSError):
                    continue  # it died: its sentinel says how
                self._send(answer)
                measuring[process_of[conn].pid] = ""
                del self.busy[conn]
                if json.loads(answer).get("kind") != "done":
                    return
                idle.append(conn)
            for process in [sentinels[r] for r in ready if r in sentinels]:
                process.join()
                self._lost(process, f"{measuring[process.pid]} {how_it_ended(process.exitcode)}")
                return
            if time.monotonic() >= next_look:  # busy workers' states, every second whatever else happens
                next_look = time.monotonic() + POLL_S
                stopped = watch.stopped_too_long([p.pid for p, _ in self.busy.values()])
                if stopped is not None:
                    process = next(p for p, _ in self.busy.values() if p.pid == stopped)
                    self._lost(process, f"{measuring[stopped]} has been stopped (SIGSTOP) for "
                               f"{STOPPED_GRACE_S:.0f} s")
                    return

    def close(self) -> None:
        """End the workers: their pipes close, so an idle one ends by itself; one still busy
        (the request was cut short) is killed."""
        for _, conn in self.workers:
            conn.close()
        for process, _ in self.workers:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join()


def main(parent: int) -> None:
    die_with_parent(parent)
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to standard error, not into the answers
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    gc.disable()  # what the imports make lives as long as the server: collecting it is wasted work
    import dla_docs.measure.core  # noqa: F401 -- torch and the measuring code, once, before any fork
    from dla_docs.store import loaded_code

    global _IMPORTED
    _IMPORTED = loaded_code()  # the sources as imported, to tell an edit made while measuring
    gc.freeze()  # kept out of every later collection (enabling first would walk it all once)
    gc.enable()

    for line in requests:
        request = json.loads(line)
        task = request.get("task", "measure")
        if task != "measure":
            _other_task(task)  # its imports (onnx, onnxruntime) once, before the workers fork
        gc.freeze()  # the workers' collections never walk (nor copy) what the server imported
        pool = _Pool(answers, max(1, min(int(request["jobs"]), len(request["names"]))))
        try:
            pool.run(list(request["names"]), int(request["image_size"]), task, request.get("options"))
        finally:
            pool.close()
    sys.stderr.flush()
    os._exit(0)  # nothing to tear down: the parent waits for this exit
