"""Speed and memory of dla-docs, as whole processes, against a naive loop in the same run.

Every figure is a real process run the way a user runs it (``python -m dla_docs ...``, or
the ``dla-docs`` console script with ``--entry script``): its wall time counts from the
process start, so the interpreter, every import and the teardown are in it, and its peak
memory is that of the whole process tree (the measuring workers included; see procs.py).

The baseline is the naive loop of bench/naive_loop.py: timm.create_model, fvcore's
FlopCountAnalysis and torch.save for the zoo's 12 variants, one after another in one fresh
process. Runs are interleaved in one invocation (baseline, scenario, baseline, scenario,
...; ``--interleave round`` runs one baseline per round instead), repeated N times; the
table gives medians, "x baseline" = the scenario's median / the median of every baseline
run, and "paired x" = the median of each run's ratio to the baseline run just before it
(the steadier of the two when the machine's load drifts).

The dla-docs commands run in a throw-away copy of the project (everything but the package,
tests, bench/, .git, the virtual environment, the site, the cache and other generated
folders), with this project's code first on PYTHONPATH. "Cold" deletes the copy's cache
folder (cache-dir in pyproject.toml) before the run; "warm" follows the cold run of the
same command. The user's own docs/, cache and site are never touched.

    .venv/bin/python bench/bench.py                          # every scenario, 3 rounds
    .venv/bin/python bench/bench.py --repeat 5 --json out.json --check
    .venv/bin/python bench/bench.py --only help verify-warm  # a subset
    .venv/bin/python bench/bench.py --dry-run                # the plan, nothing run
    .venv/bin/python bench/bench.py --smoke                  # 1 round, 1 variant: does it work?

Needs the ``bench`` extra (timm, psutil): ``pip install -e '.[bench]' torch==<the pinned
one>`` (``make bench`` does this). Exit status 0 whatever the figures, unless ``--check``
is given: then 1 when a target (see TARGETS) is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import procs  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
NAIVE_LOOP = Path(__file__).resolve().parent / "naive_loop.py"
SMOKE_VARIANT = "dla46_c"
# Not copied into the throw-away project: code (it comes from PYTHONPATH), generated folders.
SKIP_TOP = {".git", ".venv", "venv", "dla_docs", "tests", "bench", "build", "test-artifacts", ".dla-docs.lock"}
SKIP_ANY = ("__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info", ".dla-docs-staging-*")


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    argv: tuple[str, ...]
    cold: bool = False  # delete the cache first
    warm_of: str | None = None  # the cold scenario whose run fills the cache
    ok_codes: tuple[int, ...] = (0,)


SCENARIOS = (
    Scenario("help", "dla-docs --help", ("--help",)),
    Scenario("measure-cold", "measure, cold (empty cache)", ("measure",), cold=True),
    Scenario("measure-warm", "measure, warm (cache filled)", ("measure",), warm_of="measure-cold"),
    Scenario("build-cold", "build, cold (measure, graphs, pages, mkdocs)", ("build",), cold=True),
    Scenario("build-warm", "build, warm", ("build",), warm_of="build-cold"),
    Scenario("verify-cold", "verify, cold", ("verify",), cold=True, ok_codes=(0, 1)),
    Scenario("verify-warm", "verify, warm", ("verify",), warm_of="verify-cold", ok_codes=(0, 1)),
    # issue 25: every export, ONNX Runtime comparison and latency of all 12 variants (writes the
    # throw-away copy's data/deploy_dla.json); needs the deploy extra
    Scenario("deploy", "deploy (12 variants: torch.export, ONNX, onnxruntime, latency)", ("deploy",)),
)
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}

# The targets in force (issue 26's item 7, tighter than issue 20's "no regression" for warm verify
# and cold measure): (scenario, what is compared, limit).
TARGETS = (
    ("verify-warm", "ratio", 0.03),
    ("help", "seconds", 0.15),
    ("verify-cold", "ratio", 0.35),
    ("measure-cold", "ratio", 0.25),
    ("build-warm", "ratio", 0.05),
    ("build-cold", "ratio", 0.40),
    ("*", "rss", 1.2e9),  # every scenario but those with their own limit below
    ("verify-warm", "torch", "no"),
    ("deploy", "seconds", 120.0),
    ("deploy", "rss", 3.0e9),
)


@dataclass
class Row:
    key: str
    label: str
    argv: list[str]
    runs: list[procs.Run] = field(default_factory=list)
    paired_baseline_s: list[float] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return statistics.median(run.wall_s for run in self.runs)

    @property
    def peak_rss(self) -> int:
        return max(run.peak_rss for run in self.runs)

    @property
    def paired_x(self) -> float | None:
        if not self.paired_baseline_s:
            return None
        return statistics.median(run.wall_s / base for run, base in zip(self.runs, self.paired_baseline_s))

    def summary(self, baseline_s: float) -> dict:
        return {"key": self.key, "label": self.label, "argv": self.argv, "median_wall_s": self.wall_s,
                "x_baseline": self.wall_s / baseline_s, "paired_x": self.paired_x, "peak_rss_bytes": self.peak_rss,
                "median_cpu_s": statistics.median(r.cpu_s for r in self.runs),
                "median_other_load": statistics.median(r.other_load for r in self.runs),
                "runs": [asdict(run) for run in self.runs], "paired_baseline_s": self.paired_baseline_s}


class Bench:
    """One invocation: the throw-away project, the runs, and where their output goes."""

    def __init__(self, tmp: Path, options: argparse.Namespace) -> None:
        self.options = options
        self.tmp = tmp
        self.copy = tmp / "project"
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.count = 0
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT),
                                                                            os.environ.get("PYTHONPATH")]))}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def dla_docs(self, *argv: str, python_flags: tuple[str, ...] = ()) -> list[str]:
        if self.options.entry == "script" and not python_flags:
            return [str(Path(sys.executable).with_name("dla-docs")), *argv]
        return [sys.executable, *python_flags, "-m", "dla_docs", *argv]

    def naive_loop(self, *extra: str) -> list[str]:
        return [sys.executable, str(NAIVE_LOOP), *extra]

    def make_copy(self) -> None:
        def ignore(folder: str, names: list[str]) -> set[str]:
            skipped = set(shutil.ignore_patterns(*SKIP_ANY)(folder, names))
            if Path(folder) == PROJECT:
                skipped |= SKIP_TOP | {_setting("site-dir", "site"), _setting("cache-dir", ".dla-docs-cache")}
            return skipped

        shutil.copytree(PROJECT, self.copy, ignore=ignore, symlinks=True)

    def cache_dir(self) -> Path:
        return self.copy / _setting("cache-dir", ".dla-docs-cache")

    def run(self, name: str, argv: list[str], ok_codes: tuple[int, ...] = (0,)) -> procs.Run:
        self.count += 1
        out, err = self.logs / f"{self.count:03d}-{name}.out", self.logs / f"{self.count:03d}-{name}.err"
        result = procs.run(argv, cwd=self.copy, env=self.env, stdout=out, stderr=err,
                           poll_s=self.options.poll_ms / 1000, timeout_s=self.options.timeout)
        if result.exit_code not in ok_codes:
            tail = err.read_text(errors="replace")[-3000:]
            raise SystemExit(f"bench: {' '.join(argv)} exited {result.exit_code} (expected {ok_codes}); "
                             f"stderr ends:\n{tail}")
        return result

    def scenario(self, scenario: Scenario) -> procs.Run:
        if scenario.cold:
            shutil.rmtree(self.cache_dir(), ignore_errors=True)
        return self.run(scenario.key, self.dla_docs(*scenario.argv, *self.variant_args(scenario)), scenario.ok_codes)

    def variant_args(self, scenario: Scenario) -> tuple[str, ...]:
        return tuple(self.options.variants) if scenario.argv == ("measure",) and self.options.smoke else ()

    def torch_imported(self, *argv: str) -> dict:
        """Run ``python -X importtime -m dla_docs ARGV``; whether (and how long) torch was imported."""
        name = "importtime-" + "-".join(a.strip("-") for a in argv)
        self.run(name, self.dla_docs(*argv, python_flags=("-X", "importtime")), (0, 1))
        err = self.logs / f"{self.count:03d}-{name}.err"
        microseconds = None
        for line in err.read_text(errors="replace").splitlines():
            if line.startswith("import time:") and line.count("|") == 2:
                _self, cumulative, module = line.split(":", 1)[1].split("|")
                if module.strip() == "torch":
                    microseconds = int(cumulative)
        return {"argv": list(argv), "torch_imported": microseconds is not None,
                "torch_import_s": None if microseconds is None else microseconds / 1e6}


def _setting(key: str, default: str) -> str:
    data = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data.get("tool", {}).get("dla-docs", {}).get(key, default))


def zoo_variants() -> list[str]:
    """dla-docs' own list of variants, asked of a child process so the bench itself stays light."""
    code = "from dla_docs.zoo.variants import list_models; print(' '.join(list_models()))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=PROJECT, check=True, capture_output=True,
                          text=True).stdout.split()


def plan(options: argparse.Namespace) -> list[Scenario]:
    return [scenario for scenario in SCENARIOS if scenario.key in options.only]


def execute(bench: Bench, scenarios: list[Scenario], log) -> tuple[Row, list[Row], dict]:
    options = bench.options
    baseline = Row("baseline", f"naive loop: timm + fvcore + torch.save, {len(options.variants)} variant(s)",
                   bench.naive_loop(*options.variants)[1:])
    rows = {s.key: Row(s.key, s.label, ["dla_docs", *s.argv, *bench.variant_args(s)]) for s in scenarios}

    log("priming (untimed): bytecode, imports, warm caches")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(PROJECT / "dla_docs")], check=False,
                   stdout=subprocess.DEVNULL)
    bench.run("prime-naive", bench.naive_loop("--import-only"))
    bench.run("prime-help", bench.dla_docs("--help"))
    keys = {s.key for s in scenarios}
    for scenario in scenarios:
        if scenario.warm_of and scenario.warm_of not in keys:
            bench.run(f"prime-{scenario.key}", bench.dla_docs(*scenario.argv, *bench.variant_args(scenario)),
                      scenario.ok_codes)

    def run_baseline() -> float:
        result = bench.run("baseline", bench.naive_loop(*options.variants))
        baseline.runs.append(result)
        log(f"  baseline {result.wall_s:6.2f} s  {result.peak_rss / 1e6:5.0f} MB  other load {result.other_load:.2f}")
        return result.wall_s

    for round_ in range(options.repeat):
        log(f"round {round_ + 1} of {options.repeat}")
        base = run_baseline() if options.interleave == "round" else None
        for scenario in scenarios:
            if options.interleave == "pair":
                base = run_baseline()
            result = bench.scenario(scenario)
            rows[scenario.key].runs.append(result)
            rows[scenario.key].paired_baseline_s.append(base)
            log(f"  {scenario.key:12} {result.wall_s:6.2f} s  {result.peak_rss / 1e6:5.0f} MB  "
                f"other load {result.other_load:.2f}  exit {result.exit_code}")

    if not options.smoke and (not scenarios or scenarios[-1].key != "verify-warm"):
        bench.run("prime-verify", bench.dla_docs("verify"), (0, 1))  # a warm cache for the check below
    imports = {"help": bench.torch_imported("--help")}
    if not options.smoke:
        imports["verify-warm"] = bench.torch_imported("verify")
    return baseline, list(rows.values()), imports


def check_targets(baseline_s: float, rows: list[Row], imports: dict) -> list[dict]:
    by_key = {row.key: row for row in rows}
    verdicts = []
    for key, kind, limit in TARGETS:
        if kind == "rss":
            own = {k for k, c, _ in TARGETS if c == "rss" and k != "*"}
            candidates = [r for r in rows if (r.key not in own if key == "*" else r.key == key)]
            if not candidates:
                continue
            worst = max(candidates, key=lambda row: row.peak_rss)
            value, text = worst.peak_rss, f"peak RSS of the process tree <= {limit / 1e9:.1f} GB"
            shown = f"{value / 1e9:.2f} GB ({worst.key})"
            passed = value <= limit
        elif kind == "torch":
            if key not in imports:
                continue
            value = "yes" if imports[key]["torch_imported"] else "no"
            text, shown, passed = "torch imported in warm verify: no", value, value == limit
        elif key not in by_key:
            continue
        elif kind == "seconds":
            value = by_key[key].wall_s
            text, shown, passed = f"{key} < {limit} s", f"{value:.3f} s", value < limit
        else:
            value = by_key[key].wall_s / baseline_s
            text, shown, passed = f"{key} <= {limit:.2f}x baseline", f"{value:.3f}x", value <= limit
        verdicts.append({"target": text, "value": value, "shown": shown, "pass": passed})
    return verdicts


def table(baseline: Row, rows: list[Row], imports: dict) -> str:
    base = baseline.wall_s
    lines = ["| scenario | wall s | min-max s | x baseline | paired x | peak RSS MB (tree) | CPU s | other load |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in [baseline, *rows]:
        walls = [run.wall_s for run in row.runs]
        paired = "" if row.paired_x is None else f"{row.paired_x:.3f}"
        lines.append(f"| {row.label} | {row.wall_s:.2f} | {min(walls):.2f}-{max(walls):.2f} | {row.wall_s / base:.3f} "
                     f"| {paired} | {row.peak_rss / 1e6:.0f} | {statistics.median(r.cpu_s for r in row.runs):.2f} "
                     f"| {statistics.median(r.other_load for r in row.runs):.2f} |")
    for key, label in (("help", "--help"), ("verify-warm", "warm verify")):
        if key in imports:
            found = imports[key]
            detail = f" ({found['torch_import_s']:.2f} s cumulative)" if found["torch_imported"] else ""
            lines.append(f"| torch imported in {label}: {'yes' if found['torch_imported'] else 'no'}{detail} "
                         "| | | | | | | |")
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="rounds (default 3)")
    parser.add_argument("--only", nargs="+", choices=list(BY_KEY), metavar="SCENARIO",
                        help=f"scenarios to run, of {', '.join(BY_KEY)} (default: all)")
    parser.add_argument("--interleave", choices=("pair", "round"), default="pair",
                        help="pair: a baseline before every scenario run (default); round: one per round")
    parser.add_argument("--entry", choices=("module", "script"), default="module",
                        help="run dla-docs as 'python -m dla_docs' (default) or as the dla-docs console script")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every figure to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--smoke", action="store_true",
                        help=f"1 round, {SMOKE_VARIANT} only, --help and measure: checks the bench works")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and the commands, run nothing")
    parser.add_argument("--poll-ms", type=float, default=20, help="memory sampling interval (default 20 ms)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one run may take (default 900)")
    options = parser.parse_args(argv)
    if options.smoke:
        options.repeat = 1
        options.only = [key for key in options.only or ("help", "measure-cold", "measure-warm")
                        if key in ("help", "measure-cold", "measure-warm")]
        options.variants = [SMOKE_VARIANT]
    options.only = options.only or list(BY_KEY)
    options.repeat = max(1, options.repeat)
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a killed bench ends its running command too
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    scenarios = plan(options)
    if options.dry_run:
        options.variants = getattr(options, "variants", None) or ["<the zoo's variants>"]
        print(f"{options.repeat} round(s), interleave {options.interleave}, in a copy of {PROJECT}")
        print(f"baseline: {sys.executable} {NAIVE_LOOP} {' '.join(options.variants)}")
        for scenario in scenarios:
            state = "cold: cache deleted first" if scenario.cold else (
                f"warm: after {scenario.warm_of}" if scenario.warm_of else "no cache")
            print(f"{scenario.key}: python -m dla_docs {' '.join(scenario.argv)}  ({state})")
        print("then: python -X importtime -m dla_docs --help / verify (warm): is torch imported?")
        return 0
    if not getattr(options, "variants", None):
        options.variants = zoo_variants()
    machine = {"cpu_count": os.cpu_count(), "load_average_start": os.getloadavg(), "python": platform.python_version(),
               "repeat": options.repeat, "interleave": options.interleave, "entry": options.entry,
               "variants": options.variants}
    log(f"bench: {os.cpu_count()} CPUs, load average {_load(machine['load_average_start'])} at the start")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dla-bench-") as tmp:
        bench = Bench(Path(tmp), options)
        bench.make_copy()
        baseline, rows, imports = execute(bench, scenarios, log)
    machine.update(load_average_end=os.getloadavg(), whole_run_s=time.perf_counter() - started)
    verdicts = check_targets(baseline.wall_s, rows, imports)
    print(f"{machine['cpu_count']} CPUs; load average (1, 5, 15 min) {_load(machine['load_average_start'])} at the "
          f"start, {_load(machine['load_average_end'])} at the end; {options.repeat} round(s), interleave "
          f"{options.interleave}; medians of whole processes; whole run {machine['whole_run_s']:.0f} s\n")
    print(table(baseline, rows, imports))
    print()
    for verdict in verdicts:
        print(f"{'PASS' if verdict['pass'] else 'FAIL'}  {verdict['target']}: {verdict['shown']}")
    if options.json:
        report = {"machine": machine, "baseline": baseline.summary(baseline.wall_s),
                  "scenarios": [row.summary(baseline.wall_s) for row in rows], "torch_imports": imports,
                  "targets": verdicts}
        options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if options.check and not all(verdict["pass"] for verdict in verdicts) else 0


def _load(average: tuple[float, float, float]) -> str:
    return "/".join(f"{value:.2f}" for value in average)


if __name__ == "__main__":
    sys.exit(main())
