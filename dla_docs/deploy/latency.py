"""Batch-1 CPU latency of one variant, eager PyTorch and ONNX Runtime, on the machine it runs on.

Run in a measuring worker after every export is done, one variant at a time (nothing else of
the command runs meanwhile), each runtime with :data:`THREADS` thread(s): :data:`WARMUP` untimed
runs, then :data:`RUNS` timed ones (``time.perf_counter`` around each call). The record keeps
the median and the spread (the 10th to 90th percentile of the runs), and the machine's load
average when the timing started: a busy machine is visible in the record, not hidden.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import torch

from dla_docs.deploy.weights import calibrated_model, sample_input

THREADS = 1
WARMUP = 2
RUNS = 10


def _timed(call) -> list[float]:
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def _summary(times: list[float]) -> dict:
    deciles = statistics.quantiles(times, n=10, method="inclusive")
    return {"median_ms": round(statistics.median(times), 3), "p10_ms": round(deciles[0], 3),
            "p90_ms": round(deciles[-1], 3), "runs": len(times), "warmup": WARMUP, "threads": THREADS}


def latency(name: str, image_size: int, workdir: str, batch: int = 1) -> dict:
    """``{"pytorch": {...}, "onnxruntime": {...}, "load": [1, 5, 15 min]}`` for ``name``."""
    import onnxruntime

    from dla_docs.deploy.checks import _session_options

    load = [round(v, 2) for v in os.getloadavg()]
    torch.set_num_threads(THREADS)
    model = calibrated_model(name, image_size)
    x = sample_input(image_size, batch)
    with torch.inference_mode():
        eager = _summary(_timed(lambda: model(x)))
    del model
    facts = {"batch_size": batch, "load": load, "pytorch": eager}
    path = Path(workdir) / f"{name}.onnx"
    if path.is_file():
        session = onnxruntime.InferenceSession(str(path), _session_options(THREADS),
                                               providers=["CPUExecutionProvider"])
        feed = {"image": x.numpy()}
        facts["onnxruntime"] = _summary(_timed(lambda: session.run(None, feed)))
    return facts


def machine() -> dict:
    """The machine latency was measured on: CPU model, cores, memory, OS (read, never guessed)."""
    import platform

    import psutil

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model or platform.processor() or "unknown", "cores": cores,
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
