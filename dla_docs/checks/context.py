"""Context models against the timm files they are copied from (see :mod:`dla_docs.metadata.context`).

Every figure of a context row must equal the field of the source line it names (as written,
or as the same number: timm writes ``21.80`` in one file and ``21.8`` in another):
``top1``, ``top5``, ``param_count_m`` (timm's ``param_count``), ``crop_pct``,
``interpolation`` and ``img_size`` against the results line (whose ``model`` must be the
row's), ``gmacs``, ``samples_per_sec``, ``batch_size`` (timm's ``infer_*``) and the parameters
against the benchmark line (whose ``model`` is the architecture, ``resnet50``, at the same
image size). A difference is drift (exit 1) at the context file's ``file:line:column``; so is
a source file or line that is not there. Nothing here measures anything.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dla_docs.checks.findings import Finding
from dla_docs.errors import InputError, Location
from dla_docs.fs import inside
from dla_docs.metadata.context import ContextModel, ContextSource
from dla_docs.metadata.templates import read_text

# context column -> (which source, the source's column)
RESULTS_FIELDS = {"model": "model", "img_size": "img_size", "top1": "top1", "top5": "top5",
                  "param_count_m": "param_count", "crop_pct": "crop_pct", "interpolation": "interpolation"}
BENCHMARK_FIELDS = {"img_size": "infer_img_size", "gmacs": "infer_gmacs", "samples_per_sec": "infer_samples_per_sec",
                    "batch_size": "infer_batch_size", "param_count_m": "param_count"}


def _source_line(folder: Path, relative: str, line: int, cache: dict) -> tuple[dict[str, str] | None, str]:
    """The fields of ``line`` of timm's file ``relative`` (under ``folder``), or ``None`` and why not."""
    if relative not in cache:
        try:
            path = inside(folder.resolve(), relative, Location(relative), "source")
            text = read_text(path, relative) if path.is_file() else None
        except InputError as exc:
            text = None
            cache[relative] = (None, str(exc))
        if relative not in cache:
            cache[relative] = (text.splitlines() if text is not None else None,
                               f"{relative} is not in {folder.name}/ (copy it from timm's repository)")
    lines, why = cache[relative]
    if lines is None:
        return None, why
    if not 2 <= line <= len(lines):
        return None, f"{relative} has no data line {line} (it has lines 2-{len(lines)})"
    header = next(csv.reader([lines[0]]))
    values = next(csv.reader([lines[line - 1]]), [])
    if len(values) != len(header):
        return None, f"{relative}:{line} has {len(values)} fields, its header {len(header)}"
    return dict(zip(header, values)), ""


def _written(row: ContextModel, column: str) -> str:
    return {"model": row.model, "img_size": str(row.image_size), "top1": row.top1_text, "top5": row.top5_text,
            "param_count_m": row.param_count_text, "crop_pct": row.crop_pct_text,
            "interpolation": row.interpolation, "gmacs": row.gmacs_text,
            "samples_per_sec": row.samples_per_sec_text, "batch_size": str(row.batch_size)}[column]


def _same(ours: str, theirs: str | None) -> bool:
    """Equal as written, or as numbers (timm writes 21.80 in one file and 21.8 in another)."""
    if theirs is None:
        return False
    try:
        return ours == theirs or Decimal(ours) == Decimal(theirs)
    except InvalidOperation:
        return False


def check_context(context: ContextSource | None) -> tuple[list[Finding], int]:
    """Every figure of every context row against its source line; the findings and how many were checked."""
    if context is None:
        return [], 0
    findings: list[Finding] = []
    checked = 0
    cache: dict = {}

    def finding(row: ContextModel, column: str, message: str, recorded=None, expected=None) -> Finding:
        col = row.columns.index(column) + 1 if column in row.columns else 0
        return Finding(kind="mismatch", variant=None, field=column, message=message,
                       location=Location(context.display, row.line, col), recorded=recorded, measured=expected,
                       label=f"context model {row.model}", measured_label="source")

    for row in context.rows:
        for source, line, fields, line_column in (
                (row.results_source, row.results_line, RESULTS_FIELDS, "results_line"),
                (row.benchmark_source, row.benchmark_line, BENCHMARK_FIELDS, "benchmark_line")):
            checked += 1
            values, why = _source_line(context.folder, source, line, cache)
            if values is None:
                findings.append(finding(row, line_column, why))
                continue
            if fields is BENCHMARK_FIELDS:
                checked += 1
                if values.get("model") != row.architecture:
                    findings.append(finding(row, "benchmark_line", f"{source}:{line} is {values.get('model')!r}, "
                                            f"not {row.architecture!r}", values.get("model"), row.architecture))
                    continue
            for column, theirs in fields.items():
                checked += 1
                ours, source_value = _written(row, column), values.get(theirs)
                if not _same(ours, source_value):
                    findings.append(finding(row, column, f"must equal {theirs} in {source}:{line} "
                                            f"({source_value!r}), copied as written", ours, source_value))
    return findings, checked
