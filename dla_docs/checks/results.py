"""Recorded accuracies against the results source, at the precision they are written.

A template records ``Top 1 Accuracy: 74.62%``; the results source (timm's evaluation, see
:mod:`dla_docs.metadata.results`) says ``74.632``. The recorded figure holds when it is the
source's value correctly rounded to the number of decimals written, so ``74.63%`` holds and
``74.62%`` is drift. A figure must be written with at least :data:`MIN_DECIMALS` decimals, as
the template and timm's model index write them: a coarser one (``75%``, ``74.6%``) would hold
for several variants' accuracies at once, so it is drift, fixed to two decimals. ``--fix``
writes the source's value rounded to the written precision (at least two decimals), keeping
the ``%`` and any quotes.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from dla_docs.checks.findings import FieldCheck, Finding
from dla_docs.errors import Location
from dla_docs.metadata import ModelEntry, Template
from dla_docs.metadata.results import DATASETS, ResultsSource

#: model-index metric name -> the source's column
METRICS = {"Top 1 Accuracy": "top1", "Top 5 Accuracy": "top5"}
MIN_DECIMALS = 2
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


def check_results(template: Template, entry: ModelEntry, source: ResultsSource) -> list[FieldCheck]:
    """One check per accuracy ``entry`` records (``Top 1 Accuracy (ImageNet)``...), drift with its finding.

    The recorded value is shown as written (``74.63%``), the source's as it has it
    (``74.632%``). An accuracy on a test set the source lacks is a drift without a fix.
    """
    checks: list[FieldCheck] = []
    rows = {row.dataset: row for row in source.for_variant(entry.name)}
    for i, result in enumerate(entry.results):
        key = dataset_key(result.dataset)
        row = rows.get(key) if key else None
        for metric, located in result.metric_locations.items():
            column = METRICS.get(metric)
            if column is None:
                continue
            field = f"Results[{i}].Metrics.{metric}"
            shown_field = f"{metric} ({result.dataset})"
            where = Location(template.display, located.line, located.column)
            written = template.text[located.start:located.end].strip().strip("'\"")
            recorded = written_number(written)
            common = dict(location=where, label=entry.label, template=template.path)
            if row is None or recorded is None:
                finding = Finding(
                    kind="mismatch", variant=entry.name, field=field, recorded=located.value,
                    message=f"the results source {source.display} has no row for {entry.name} on "
                            f"{result.dataset!r}; add one or remove this result", **common)
                checks.append(FieldCheck(entry.name, shown_field, written, None, "drift", "no source row",
                                         finding, **common))
                continue
            text = row.top1_text if column == "top1" else row.top5_text
            value = Decimal(text)
            detail = f"results source, {decimals(recorded)} decimals as written"
            if decimals(recorded) < MIN_DECIMALS:
                wanted = Decimal(1).scaleb(-MIN_DECIMALS)
                finding = Finding(
                    kind="mismatch", variant=entry.name, field=field, recorded=float(recorded),
                    measured=float(value), difference=float(value - recorded),
                    relative_difference=float((value - recorded) / recorded) if recorded else None,
                    message=f"written with {decimals(recorded)} decimals: accuracies are written with at least "
                            f"{MIN_DECIMALS} (a coarser figure fits other variants too); the results source "
                            f"({source.display}:{row.line}) has {value}",
                    fix=str(rounded_as(value, wanted)), measured_label="source", **common)
                checks.append(FieldCheck(entry.name, shown_field, written, f"{text}%", "drift",
                                         f"fewer than {MIN_DECIMALS} decimals", finding, **common))
                continue
            if holds(recorded, value):
                checks.append(FieldCheck(entry.name, shown_field, written, f"{text}%", "ok", detail, None, **common))
                continue
            finding = Finding(
                kind="mismatch", variant=entry.name, field=field, recorded=float(recorded), measured=float(value),
                difference=float(value - recorded),
                relative_difference=float((value - recorded) / recorded) if recorded else None,
                message=f"must equal the results source ({source.display}:{row.line}, {row.model} on "
                        f"{row.dataset}: {value}) at the {decimals(recorded)} decimals written",
                fix=str(rounded_as(value, recorded)), measured_label="source", **common)
            checks.append(FieldCheck(entry.name, shown_field, written, f"{text}%", "drift", detail, finding, **common))
    return checks
