"""Recorded accuracies against the results source, at the precision they are written.

A template records ``Top 1 Accuracy: 74.62%``; the results source (timm's evaluation, see
:mod:`dla_docs.metadata.results`) says ``74.632``. The recorded figure holds when it is the
source's value correctly rounded to the number of decimals written, so ``74.63%`` holds and
``74.62%`` is drift; a figure written with fewer decimals (``74.6%``) is checked at that
coarser precision. ``--fix`` writes the source's value rounded to the written precision,
keeping the ``%`` and any quotes.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from dla_docs.checks.findings import Finding
from dla_docs.errors import Location
from dla_docs.metadata import ModelEntry, Template
from dla_docs.metadata.results import DATASETS, ResultsSource

#: model-index metric name -> the source's column
METRICS = {"Top 1 Accuracy": "top1", "Top 5 Accuracy": "top5"}
_BY_TITLE = {title.casefold(): key for key, title in DATASETS.items()}


def dataset_key(dataset: str) -> str | None:
    """The source's name for a model-index ``Dataset`` (``ImageNet`` -> ``imagenet``)."""
    folded = dataset.strip().casefold()
    if folded in DATASETS:
        return folded
    return _BY_TITLE.get(folded)


def written_number(raw: str) -> Decimal | None:
    """The number a scalar was written as: ``'78.03%'`` -> ``Decimal('78.03')``."""
    text = raw.strip().strip("'\"").strip()
    text = text.removesuffix("%").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def decimals(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)  # type: ignore[operator]


def holds(recorded: Decimal, source: Decimal) -> bool:
    """``recorded`` is ``source`` rounded to the decimals ``recorded`` is written with."""
    unit = Decimal(1).scaleb(-decimals(recorded))
    return 2 * abs(source - recorded) <= unit


def rounded_as(source: Decimal, recorded: Decimal) -> Decimal:
    return source.quantize(Decimal(1).scaleb(-decimals(recorded)), rounding=ROUND_HALF_EVEN)


def check_results(template: Template, entry: ModelEntry, source: ResultsSource) -> tuple[list[Finding], int]:
    """Findings for the accuracies ``entry`` records, and how many were checked."""
    findings: list[Finding] = []
    checked = 0
    rows = {row.dataset: row for row in source.for_variant(entry.name)}
    for i, result in enumerate(entry.results):
        key = dataset_key(result.dataset)
        row = rows.get(key) if key else None
        for metric, located in result.metric_locations.items():
            column = METRICS.get(metric)
            if column is None:
                continue
            field = f"Results[{i}].Metrics.{metric}"
            where = Location(template.display, located.line, located.column)
            recorded = written_number(template.text[located.start:located.end])
            if row is None or recorded is None:
                if row is None:
                    findings.append(Finding(
                        kind="mismatch", variant=entry.name, field=field, location=where, label=entry.label,
                        template=template.path, recorded=located.value,
                        message=f"the results source {source.display} has no row for {entry.name} on "
                                f"{result.dataset!r}; add one or remove this result"))
                continue
            checked += 1
            value = Decimal(row.top1_text if column == "top1" else row.top5_text)
            if holds(recorded, value):
                continue
            fix = rounded_as(value, recorded)
            findings.append(Finding(
                kind="mismatch", variant=entry.name, field=field, location=where, label=entry.label,
                template=template.path, recorded=float(recorded), measured=float(value),
                difference=float(value - recorded),
                relative_difference=float((value - recorded) / recorded) if recorded else None,
                message=f"must equal the results source ({source.display}:{row.line}, {row.model} on "
                        f"{row.dataset}: {value}) at the {decimals(recorded)} decimals written",
                fix=str(fix), measured_label="source"))
    return findings, checked
