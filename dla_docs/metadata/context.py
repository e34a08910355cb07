"""Context models: well-known ImageNet-1k classifiers the family page sets DLA beside.

Readers choose between families before they choose a variant, so the family page shows a
few models every reader knows (ResNet, EfficientNet, MobileNetV3, RegNetY, ConvNeXt...),
each named with its timm tag. Their figures are *recorded*, never measured here: each row of
``data/timm_context.csv`` copies ImageNet top-1/top-5, parameters, evaluation settings from
a line of timm's ``results/results-imagenet.csv``, and GMACs and throughput from a line of a
``results/benchmark-infer-*.csv``, and names both (file and line). Those files ship in the
project under ``data/timm/`` exactly as timm publishes them (at the commit the DLA rows come
from), so ``verify`` (:mod:`dla_docs.checks.context`) compares every figure with its source
line in a clone without a network.

Columns: ``model, img_size, top1, top5, param_count_m, crop_pct, interpolation,
results_source, results_line, gmacs, samples_per_sec, batch_size, benchmark_source,
benchmark_line``. Figures are kept as written (their decimals are their precision). The file
is optional: without it the page has no "Against other families" section. A bad file is an
:class:`~dla_docs.errors.InputError` naming file, line and column. Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dla_docs.metadata.results import HARDWARE, Row, read_rows

CONTEXT_FILE = "data/timm_context.csv"  # relative to the project root
SOURCES_FOLDER = "data/timm"            # timm's files, under their own relative paths
CONTEXT_COLUMNS = ("model", "img_size", "top1", "top5", "param_count_m", "crop_pct", "interpolation",
                   "results_source", "results_line", "gmacs", "samples_per_sec", "batch_size", "benchmark_source",
                   "benchmark_line")


@dataclass(frozen=True)
class ContextModel:
    """One context model's recorded figures, as written, with the two lines they come from."""

    model: str               # timm's name with its tag: resnet50.tv_in1k
    image_size: int
    top1: float
    top1_text: str
    top5_text: str
    param_count_text: str    # millions
    crop_pct_text: str
    interpolation: str
    results_source: str      # results/results-imagenet.csv
    results_line: int
    gmacs_text: str
    samples_per_sec: float
    samples_per_sec_text: str
    batch_size: int
    benchmark_source: str    # results/benchmark-infer-amp-nchw-pt291-cu130-5090.csv
    benchmark_line: int
    line: int                # in the context file
    columns: tuple[str, ...] = ()

    @property
    def architecture(self) -> str:
        """timm's architecture name without the tag: ``resnet50``."""
        return self.model.split(".", 1)[0]

    @property
    def macs(self) -> int:
        return round(float(self.gmacs_text) * 1e9)

    @property
    def gmacs(self) -> float:
        return float(self.gmacs_text)

    @property
    def parameters_m(self) -> float:
        return float(self.param_count_text)


@dataclass(frozen=True)
class ContextSource:
    display: str                     # the context file, as the report names it
    folder: Path                     # where timm's files are (data/timm)
    rows: tuple[ContextModel, ...]

    def hardware(self) -> tuple[str, ...]:
        """The machines the throughputs were recorded on (the benchmark files' names)."""
        out = []
        for row in self.rows:
            name = Path(row.benchmark_source).name
            label = next((label for pattern, label in HARDWARE if pattern.search(name)), Path(name).stem)
            if label not in out:
                out.append(label)
        return tuple(out)


def read_context(path: Path, root: Path | None = None, sources: Path | None = None) -> ContextSource:
    """Read the context file; ``sources`` is the folder holding timm's files (default: beside it, ``timm/``)."""
    display, rows = read_rows(path, root, CONTEXT_COLUMNS)
    out, seen = [], {}
    for line, values in rows:
        row = Row(display, line, values)
        model = row.name("model")
        if "." not in model:
            raise row.error("model", f"expected timm's name with its tag (resnet50.tv_in1k), got {model!r}")
        if model in seen:
            raise row.error("model", f"{model} is given twice (also line {seen[model]})")
        seen[model] = line
        for column in ("top5", "param_count_m", "crop_pct", "gmacs"):
            row.number(column)
        out.append(ContextModel(
            model=model, image_size=row.integer("img_size"), top1=row.number("top1", 0, 100),
            top1_text=values["top1"], top5_text=values["top5"], param_count_text=values["param_count_m"],
            crop_pct_text=values["crop_pct"], interpolation=row.name("interpolation"),
            results_source=row.relative_path("results_source"), results_line=row.integer("results_line"),
            gmacs_text=values["gmacs"], samples_per_sec=row.number("samples_per_sec"),
            samples_per_sec_text=values["samples_per_sec"], batch_size=row.integer("batch_size"),
            benchmark_source=row.relative_path("benchmark_source"), benchmark_line=row.integer("benchmark_line"),
            line=line, columns=row.order))
    return ContextSource(display, sources if sources is not None else path.parent / "timm", tuple(out))


def load_context(root: Path) -> ContextSource | None:
    """The project's context models (``None`` when it has no :data:`CONTEXT_FILE`)."""
    path = root / CONTEXT_FILE
    if not path.is_file():
        return None
    return read_context(path, root, root / SOURCES_FOLDER)
