"""Speed and memory of dla-docs against a naive baseline, in one process tree.

Each scenario runs in a fresh child process (so imports, caches and allocator state never
leak between them); the child times its own work after imports, and the parent samples the
resident memory of the child and all its descendants (the parallel workers) every 20 ms.

    .venv/bin/python bench/bench.py                 # everything, a table on stdout
    .venv/bin/python bench/bench.py --json out.json # the same figures as JSON too
    .venv/bin/python bench/bench.py --only baseline cold warm

Targets (issue 2): cold measurement at most 0.5x the baseline, warm at most 0.1x.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- scenarios: each runs inside a child process and returns its work time in seconds ---

def _all_variants() -> list[str]:
    from dla_docs import list_models

    return list_models()


def scenario_baseline(args: dict) -> float:
    """The naive way: build each model with default initialisation, run fvcore once."""
    import torch
    from fvcore.nn import FlopCountAnalysis

    from dla_docs import create_model

    names = _all_variants()[: args.get("count")]
    size = args.get("image_size", 224)
    start = time.perf_counter()
    for name in names:
        model = create_model(name).eval()
        analysis = FlopCountAnalysis(model, torch.randn(1, 3, size, size))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analysis.total()
    return time.perf_counter() - start


def scenario_measure(args: dict) -> float:
    """dla-docs' measurement: cache first, then the missing variants in parallel."""
    from dla_docs.cache import MeasurementCache
    from dla_docs.runner import measure_many

    names = _all_variants()[: args.get("count")]
    cache = MeasurementCache(Path(args["cache"])) if args.get("cache") else None
    start = time.perf_counter()
    measure_many(names, args.get("image_size", 224), cache)
    return time.perf_counter() - start


def scenario_cli(args: dict) -> float:
    """A whole dla-docs command (verify, build) through its entry point."""
    from dla_docs.cli import main

    start = time.perf_counter()
    code = main(args["argv"])
    elapsed = time.perf_counter() - start
    if code not in args.get("ok_codes", (0,)):
        raise SystemExit(f"dla-docs {' '.join(args['argv'])} exited {code}")
    return elapsed


SCENARIOS: dict[str, Callable[[dict], float]] = {
    "baseline": scenario_baseline,
    "measure": scenario_measure,
    "cli": scenario_cli,
}


# --- the parent: run a child, sample its process tree's memory -------------------------

def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree_rss(root: int) -> int:
    tree = _children_of()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            pass
        todo.extend(tree.get(pid, []))
    return total


@dataclass
class Result:
    name: str
    work_s: float
    process_s: float
    peak_rss_mb: float


def run(label: str, scenario: str, args: dict) -> Result:
    """Run ``scenario`` in a child process; return its work time, wall time and peak RSS."""
    payload = json.dumps({"scenario": scenario, "args": args})
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", payload], cwd=PROJECT,
                             stdout=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(child.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"scenario {label} failed with exit code {child.returncode}")
    return Result(label, json.loads(out.strip().splitlines()[-1])["work_s"],
                  time.perf_counter() - start, peak / 1e6)


def _child(payload: str) -> None:
    spec = json.loads(payload)
    work = SCENARIOS[spec["scenario"]](spec["args"])
    print(json.dumps({"work_s": work}))


def measurement_suite(tmp: Path) -> list[Result]:
    cache = tmp / "cache"
    return [
        run("baseline (naive loop, 12 variants)", "baseline", {}),
        run("measure cold (no cache)", "measure", {"cache": str(cache)}),
        run("measure warm (cache)", "measure", {"cache": str(cache)}),
    ]


SUITES: dict[str, Callable[[Path], list[Result]]] = {"measure": measurement_suite}


def table(results: list[Result], baseline: Result) -> str:
    lines = [f"{'scenario':44} {'work s':>8} {'x baseline':>10} {'process s':>9} {'peak RSS MB':>11}"]
    for r in results:
        lines.append(f"{r.name:44} {r.work_s:8.2f} {r.work_s / baseline.work_s:10.3f} "
                     f"{r.process_s:9.2f} {r.peak_rss_mb:11.0f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), help="suites to run (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    if options.child:
        _child(options.child)
        return 0
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="dla-bench-") as tmp:
        for name in options.only or list(SUITES):
            results += SUITES[name](Path(tmp))
    baseline = results[0] if results[0].name.startswith("baseline") else next(
        r for r in results if r.name.startswith("baseline"))
    print(f"machine: {os.cpu_count()} cores; times are seconds of work after imports")
    print(table(results, baseline))
    if options.json:
        options.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
