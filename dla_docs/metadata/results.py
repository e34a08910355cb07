"""Recorded evaluation results and inference benchmarks: timm's CSV rows, read as data.

Two sources sit beside the model-index, both configured in ``[tool.dla-docs]``:

- ``results``: rows of timm's ``results/results-*.csv`` (one per weight and test set, the test
  set one of :data:`DATASETS`, spelt as timm spells it; a second row for the same pair is refused), with
  columns ``dataset, model, img_size, top1, top5, param_count_m, crop_pct, interpolation,
  source``. ``verify`` checks the template's ImageNet Top 1 / Top 5 against it; cards show
  all six test sets.
- ``benchmarks``: rows of timm's ``benchmark-infer-*.csv`` files, with columns ``model,
  img_size, samples_per_sec, step_time_ms, batch_size, param_count_m, gmacs, macts_m,
  source`` (one row per model and benchmark file: a second is refused). Cards show them as *recorded* throughput, with their source and hardware; the
  build never times anything itself, so the site stays byte-reproducible.

A column named twice is refused (it would otherwise be read as the last one). A bad file is an :class:`~dla_docs.errors.InputError` naming the file, the line and the
column (field) at fault. Nothing here imports torch.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dla_docs.errors import InputError, Location
from dla_docs.fs import shown
from dla_docs.metadata.templates import read_text

RESULT_COLUMNS = ("dataset", "model", "img_size", "top1", "top5", "param_count_m", "crop_pct", "interpolation",
                  "source")
BENCHMARK_COLUMNS = ("model", "img_size", "samples_per_sec", "step_time_ms", "batch_size", "param_count_m",
                     "gmacs", "macts_m", "source")

#: How the pages name timm's test sets, in the order they are shown.
DATASETS = {
    "imagenet": "ImageNet",
    "imagenet-real": "ImageNet-ReaL",
    "imagenetv2-matched-frequency": "ImageNetV2 (matched frequency)",
    "imagenet-r": "ImageNet-R",
    "imagenet-a": "ImageNet-A",
    "sketch": "ImageNet-Sketch",
}

HARDWARE = (  # (pattern in the benchmark file name, what the pages call the machine)
    (re.compile(r"(?:^|-)5090(?:-|\.|$)"), "NVIDIA GeForce RTX 5090"),
    (re.compile(r"(?:^|-)4090(?:-|\.|$)"), "NVIDIA GeForce RTX 4090"),
    (re.compile(r"i7_12700h", re.I), "Intel Core i7-12700H (CPU)"),
)
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


@dataclass(frozen=True)
class EvalResult:
    """One weight on one test set. ``top1_text``/``top5_text`` keep the digits as written."""

    dataset: str
    model: str          # timm's name with its tag: dla34.in1k
    variant: str        # dla34
    image_size: int
    top1: float
    top5: float
    top1_text: str
    top5_text: str
    crop_pct: float
    interpolation: str
    source: str
    line: int
    param_count_text: str = ""      # millions of parameters, as written ("15.74")
    columns: tuple[str, ...] = ()   # the header, for the column of a field

    @property
    def dataset_title(self) -> str:
        return DATASETS.get(self.dataset, self.dataset)


@dataclass(frozen=True)
class Benchmark:
    """One recorded inference throughput measurement."""

    variant: str
    image_size: int
    samples_per_sec: float
    step_time_ms: float
    batch_size: int
    source: str
    line: int
    model: str = ""                 # as written (dla34)
    param_count_text: str = ""      # millions of parameters, as written
    gmacs_text: str = ""            # billions of multiply-accumulates, as written
    macts_text: str = ""            # millions of activations, as written
    columns: tuple[str, ...] = ()

    @property
    def hardware(self) -> str:
        name = Path(self.source).name
        for pattern, label in HARDWARE:
            if pattern.search(name):
                return label
        return Path(name).stem

    @property
    def precision(self) -> str:
        name = Path(self.source).name
        return "AMP (mixed precision)" if "-amp-" in name else "fp32" if "-fp32-" in name else ""


@dataclass(frozen=True)
class ResultsSource:
    """Every row of the results file, and where it came from."""

    display: str
    rows: tuple[EvalResult, ...]

    def for_variant(self, variant: str) -> list[EvalResult]:
        """The variant's rows, ImageNet first, in the order of :data:`DATASETS`."""
        order = {name: i for i, name in enumerate(DATASETS)}
        rows = [r for r in self.rows if r.variant == variant]
        return sorted(rows, key=lambda r: (order.get(r.dataset, len(order)), r.dataset))

    def imagenet(self, variant: str) -> EvalResult | None:
        return next((r for r in self.rows if r.variant == variant and r.dataset == "imagenet"), None)


@dataclass(frozen=True)
class BenchmarkSource:
    display: str
    rows: tuple[Benchmark, ...]

    def for_variant(self, variant: str) -> list[Benchmark]:
        return [r for r in self.rows if r.variant == variant]


def read_rows(path: Path, root: Path | None, columns: tuple[str, ...]) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    display = shown(path, root)
    # a byte-order mark (spreadsheet programs write one) is not part of the first column's
    # name; the template reader accepts one as well
    text = read_text(path, display).removeprefix("\ufeff")
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(Location(display, 1), "header", f"not CSV: {exc}") from None
    if header is None:
        raise InputError(Location(display, 1), "header", f"empty file; expected the columns {', '.join(columns)}")
    header = [h.strip() for h in header]
    folded = [h.casefold() for h in header]
    for i, name in enumerate(folded):
        if name in folded[:i]:
            raise InputError(Location(display, 1, i + 1), "header",
                             f"column {header[i]!r} is given twice (columns {folded.index(name) + 1} and {i + 1}); "
                             "each column must be named once")
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(Location(display, 1), "header", f"missing column(s) {', '.join(missing)}; "
                         f"expected {', '.join(columns)}")
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise InputError(Location(display, line), "row",
                                 f"{len(values)} fields, expected {len(header)} ({', '.join(header)})")
            rows.append((line, {h: v.strip() for h, v in zip(header, values)}))
    except csv.Error as exc:
        raise InputError(Location(display, reader.line_num), "row", f"not CSV: {exc}") from None
    return display, rows


class Row:
    """Typed access to one CSV row; a bad value names file, line, column and field."""

    def __init__(self, display: str, line: int, values: dict[str, str]) -> None:
        self.display, self.line, self.values = display, line, values
        self.order = tuple(values)

    def error(self, name: str, message: str) -> InputError:
        return InputError(Location(self.display, self.line, self.order.index(name) + 1), name, message)

    def number(self, name: str, low: float = 0.0, high: float = math.inf) -> float:
        raw = self.values[name]
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise self.error(name, f"expected a number, got {raw!r}") from None
        if not value.is_finite() or not low <= value <= high:
            bounds = f"[{low:g}, {high:g}]" if high != math.inf else f">= {low:g}"
            raise self.error(name, f"expected a number {bounds}, got {raw!r}")
        return float(value)

    def integer(self, name: str) -> int:
        raw = self.values[name]
        if not re.fullmatch(r"[1-9]\d{0,8}", raw):
            raise self.error(name, f"expected a positive integer, got {raw!r}")
        return int(raw)

    def dataset(self, name: str) -> str:
        """One of timm's test sets (:data:`DATASETS`), spelt as timm's results files spell it."""
        raw = self.values[name]
        if raw not in DATASETS:
            raise self.error(name, f"unknown test set {raw!r}; timm's evaluations are {', '.join(DATASETS)}")
        return raw

    def name(self, name: str) -> str:
        raw = self.values[name]
        if not _NAME.match(raw):
            raise self.error(name, f"expected a name of letters, digits, '_', '.', '-', got {raw!r}")
        return raw

    def relative_path(self, name: str) -> str:
        """A path inside timm's repository (``results/results-imagenet.csv``): the pages name the
        file and the Hub card links it (``https://github.com/.../blob/<commit>/<path>``), so it
        holds only plain path characters, and no ``.``/``..`` step."""
        raw = self.values[name]
        parts = raw.split("/")
        if len(raw) > 200 or not all(_NAME.match(p) and p not in (".", "..") for p in parts):
            raise self.error(name, "expected the timm file the row comes from, a relative path of letters, "
                             f"digits, '_', '.', '-' and '/' (e.g. results/results-imagenet.csv), got {raw!r}")
        return raw


def _figure(row: Row, name: str) -> str:
    """A positive figure checked as a number and kept as written (its decimals are its precision)."""
    row.number(name)
    return row.values[name]


def _variant(row: Row, field: str, known: set[str] | None) -> str:
    model = row.name(field)
    variant = model.split(".", 1)[0]
    if known is not None and variant not in known:
        raise row.error(field, f"unknown DLA variant {variant!r}; valid names: {', '.join(sorted(known))}")
    return variant


def read_results(path: Path, root: Path | None = None, known: set[str] | None = None) -> ResultsSource:
    """Read the results CSV; ``known`` (variant names) refuses rows for other models."""
    display, rows = read_rows(path, root, RESULT_COLUMNS)
    results, seen = [], {}
    for line, values in rows:
        row = Row(display, line, values)
        variant = _variant(row, "model", known)
        dataset = row.dataset("dataset")
        if (variant, dataset) in seen:
            raise row.error("model", f"{values['model']} on {dataset} is given twice (also line {seen[variant, dataset]})")
        seen[variant, dataset] = line
        results.append(EvalResult(
            dataset=dataset, model=values["model"], variant=variant, image_size=row.integer("img_size"),
            top1=row.number("top1", 0, 100), top5=row.number("top5", 0, 100),
            top1_text=values["top1"], top5_text=values["top5"], crop_pct=row.number("crop_pct", 0, 1),
            interpolation=row.name("interpolation"), source=row.relative_path("source"), line=line,
            param_count_text=_figure(row, "param_count_m"), columns=row.order))
        if results[-1].crop_pct == 0:
            raise row.error("crop_pct", "must be above 0")
        if results[-1].top1 > results[-1].top5:
            raise row.error("top1", f"top-1 {values['top1']} is above top-5 {values['top5']}: impossible "
                            "(every top-1 hit is also a top-5 hit)")
    return ResultsSource(display, tuple(results))


def read_benchmarks(path: Path, root: Path | None = None, known: set[str] | None = None) -> BenchmarkSource:
    """Read the benchmark CSV."""
    display, rows = read_rows(path, root, BENCHMARK_COLUMNS)
    benchmarks, seen = [], {}
    for line, values in rows:
        row = Row(display, line, values)
        variant, source = _variant(row, "model", known), row.relative_path("source")
        if (variant, source) in seen:
            raise row.error("model", f"{values['model']} in {source} is given twice (also line {seen[variant, source]}); "
                            "a benchmark file has one row per model")
        seen[variant, source] = line
        benchmarks.append(Benchmark(
            variant=variant, image_size=row.integer("img_size"),
            samples_per_sec=row.number("samples_per_sec"), step_time_ms=row.number("step_time_ms"),
            batch_size=row.integer("batch_size"), source=source, line=line,
            model=values["model"], param_count_text=_figure(row, "param_count_m"), gmacs_text=_figure(row, "gmacs"),
            macts_text=_figure(row, "macts_m"), columns=row.order))
    return BenchmarkSource(display, tuple(benchmarks))
