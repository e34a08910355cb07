"""Run one command as a real process and measure it whole: wall time, peak memory, CPU, noise.

- wall time: from just before the process is started until it has been reaped, so the
  interpreter's start, every import and the teardown are inside it;
- peak RSS of the process tree: a thread samples the resident memory of the process and
  all its descendants (psutil) every ``poll_s`` and keeps the largest sum. Shared pages
  (forked workers share the torch libraries) are counted once per process, so the sum is
  an upper bound of what the tree really holds. A process too short-lived for the sampler
  is covered by ``ru_maxrss`` from ``wait4`` (the largest single process among the child
  and the descendants it reaped): the tree's peak is at least that;
- CPU seconds of the tree (user + system, reaped descendants included);
- other load: CPU cores that other programs kept busy during the run, from /proc/stat less
  this tree's CPU and the sampler's. Above ~0.2 on a 2-core machine the times are inflated.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    wall_s: float
    exit_code: int
    peak_rss: int  # bytes: the process tree, see the module docstring
    max_single_rss: int  # bytes: ru_maxrss of the largest single process
    cpu_s: float
    other_load: float
    samples: int


def _machine_busy_s() -> float:
    """CPU seconds every core of the machine has spent busy since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _tree_rss(pid: int) -> int:
    """The summed RSS of process ``pid`` and its descendants (0 if it cannot be read now).

    A fresh ``psutil.Process`` each time: psutil remembers a failed identity check for
    good, and one transient failure must not end the sampling.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:  # gone meanwhile (ZombieProcess is a NoSuchProcess), or not ours
            pass
    return total


def run(argv: list[str], *, cwd: Path, env: dict[str, str], stdout: Path, stderr: Path,
        poll_s: float = 0.02, timeout_s: float = 900, on_sample: Callable[[int], None] | None = None) -> Run:
    """Run ``argv`` to completion and measure it; its output goes to the two files.

    ``on_sample`` is called from the sampling thread with each summed RSS (bytes).
    """
    import psutil  # noqa: F401 -- missing, it fails here rather than silently in the sampling thread

    busy, own = _machine_busy_s(), _self_cpu_s()
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 start_new_session=True)  # its own process group: a timeout ends the tree
    peak, samples = 0, 0
    stop = threading.Event()

    failures: list[BaseException] = []

    def sample() -> None:
        nonlocal peak, samples
        while True:  # the pid stays ours until it is reaped, and stop is set before that matters
            rss = _tree_rss(child.pid)
            if rss:
                peak, samples = max(peak, rss), samples + 1
                if on_sample is not None:
                    try:
                        on_sample(rss)
                    except BaseException as exc:  # noqa: BLE001 -- raised again in the caller's thread
                        failures.append(exc)
                        return
            if stop.wait(poll_s):
                return

    def expire() -> None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timer = threading.Timer(timeout_s, expire)
    timer.start()
    try:
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the tree must not outlive the bench
        expire()
        os.waitpid(child.pid, 0)
        raise
    finally:
        timer.cancel()
        stop.set()
        sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if failures:
        raise failures[0]
    cpu = usage.ru_utime + usage.ru_stime
    other = max(0.0, (_machine_busy_s() - busy) - cpu - (_self_cpu_s() - own)) / wall
    single = usage.ru_maxrss * 1024  # kilobytes on Linux
    return Run(wall, child.returncode, max(peak, single), single, cpu, other, samples)
