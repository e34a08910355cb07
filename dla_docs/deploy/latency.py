"""Batch-1 CPU latency of one variant, eager PyTorch and ONNX Runtime, on the machine it runs on.

Run in a measuring worker after every export is done, one variant at a time (nothing else of
the command runs meanwhile), each runtime with :data:`THREADS` thread(s): :data:`WARMUP` untimed
run(s), then timed runs (``time.perf_counter`` around each call) until :data:`RUNS` of them or
:data:`BUDGET_S` seconds, but never fewer than :data:`MIN_RUNS`: a small variant gets 10 runs, the
largest (about 0.5 s a run on one thread) 5 or 6. The record keeps the median, the spread (the
10th to 90th percentile of the runs), the number of runs, and the machine's load average when the
timing started: a busy machine is visible in the record, not hidden.

The model is the deploy pass's own calibrated model (its weights saved in the command's
temporary folder by :func:`dla_docs.deploy.weights.save_weights`), so the latency pass does not
initialise or calibrate again; the ONNX file is the one the deploy pass checked.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import torch

from dla_docs.deploy.weights import calibrated_model, sample_input, weights_path

THREADS = 1
WARMUP = 1
RUNS = 10  # at most
MIN_RUNS = 5
BUDGET_S = 2.0  # per runtime: runs stop at RUNS, or once this is spent and MIN_RUNS are done


def _timed(call) -> list[float]:
    for _ in range(WARMUP):
        call()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < RUNS and (len(times) < MIN_RUNS or time.perf_counter() - started < BUDGET_S):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def _model(name: str, image_size: int, workdir: str) -> torch.nn.Module:
    """The calibrated model: from the deploy pass's weights when saved (built on the meta device,
    so no initialisation is run, then given the saved tensors), else built and calibrated here."""
    from dla_docs.zoo.factory import create_model

    path = weights_path(workdir, name)
    if not path.is_file():
        return calibrated_model(name, image_size)
    with torch.device("meta"):
        model = create_model(name)
    model.load_state_dict(torch.load(path, weights_only=True), assign=True)
    path.unlink()
    return model.eval()


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
    model = _model(name, image_size, workdir)
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
