"""The recorded sources' own rows, against the measurement and the published weights.

A results row is what ``verify`` checks the template's accuracies against, and the cards
show every row of both sources; so a row must be the variant's. Each carries figures the
code can vouch for, and they must hold, at the precision written:

- results rows: ``param_count_m`` is the measured parameter count in millions; ``model`` is
  the published weights' name (``dla34.in1k``); ``img_size``, ``crop_pct`` and
  ``interpolation`` are the weights' evaluation settings (``data_config``); ``source`` is
  timm's file for that test set (``results-<dataset>.csv``);
- benchmark rows: ``param_count_m``, ``gmacs`` (fvcore's MACs, as timm counts them) and
  ``macts_m`` (activations) are the measurement; ``img_size`` the weights' input size.

A row of another variant filed under this one's name (every variant's parameter count
differs), or one evaluated otherwise, is drift (exit 1) at its ``file:line:column``.

**Digits that vouch.** A figure holds at the precision it is written, so a coarse one can
hold for two variants at once (``param_count_m`` ``1.3`` is both dla46_c's 1,309,... and
dla60x_c's 1,320,... parameters). A row vouches for its identity only when its figures, taken
together, fit its own variant and no other measured one; a row that fits another variant
as well is drift at its first figure, with the digits that would tell them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePosixPath

from dla_docs.checks.findings import Finding
from dla_docs.checks.results import holds
from dla_docs.errors import Location
from dla_docs.measure.facts import Measurement
from dla_docs.metadata.results import BenchmarkSource, ResultsSource
from dla_docs.zoo.data import data_config, pretrained_config


def _finding(display: str, line: int, columns: tuple[str, ...], column: str, variant: str, what: str,
             recorded, expected, message: str) -> Finding:
    where = Location(display, line, columns.index(column) + 1 if column in columns else 0)
    expected = float(expected) if isinstance(expected, Decimal) else expected  # JSON has no decimals
    return Finding(kind="mismatch", variant=variant, field=column, message=message, location=where,
                   recorded=recorded, measured=expected, label=what, measured_label="expected")


def _scaled(written: str, value: int, unit: int) -> tuple[bool, Decimal]:
    """Whether ``written`` is ``value / unit`` at the decimals written, and that quotient."""
    exact = Decimal(value) / Decimal(unit)
    return holds(Decimal(written), exact), exact


def _decimals_needed(value: int, unit: int, others: list[int]) -> str:
    """``value / unit`` written with the fewest decimals (at least two) that fit no value of ``others``."""
    exact = Decimal(value) / Decimal(unit)
    for places in range(2, 10):
        text = str(exact.quantize(Decimal(1).scaleb(-places)))
        if not any(holds(Decimal(text), Decimal(o) / Decimal(unit)) for o in others):
            return text
    return str(exact)


def _also_fits(figures: list[tuple[str, str, str, int]], variant: str,
               measurements: Mapping[str, Measurement]) -> str | None:
    """Another measured variant that every figure (column, written, attribute, unit) fits too."""
    for other, m in measurements.items():
        if other != variant and all(_scaled(written, getattr(m, attribute), unit)[0]
                                    for _, written, attribute, unit in figures):
            return other
    return None


def _identity(figures: list[tuple[str, str, str, int]], variant: str, measurements: Mapping[str, Measurement],
              what: str, args: tuple) -> Finding | None:
    """A finding when the row's figures, as written, fit another measured variant as well as ``variant``."""
    other = _also_fits(figures, variant, measurements)
    if other is None:
        return None
    column, written, attribute, unit = figures[0]
    own, theirs = getattr(measurements[variant], attribute), getattr(measurements[other], attribute)
    better = _decimals_needed(own, unit, [getattr(m, attribute) for v, m in measurements.items() if v != variant])
    return _finding(*args, column, variant, what, written, Decimal(better),
                    f"written with too few digits to tell {variant} ({own:,}) from {other} ({theirs:,}): the row "
                    f"fits both, so it cannot vouch for being {variant}'s; write {better}")


def check_source_rows(results: ResultsSource | None, benchmarks: BenchmarkSource | None,
                      measurements: Mapping[str, Measurement]) -> tuple[list[Finding], int]:
    """Every row's vouchable figures (see the module); the findings and how many were checked."""
    findings: list[Finding] = []
    checked = 0
    for row in results.rows if results is not None else ():
        config, weights = data_config(row.variant), pretrained_config(row.variant)
        what = f"{row.model} on {row.dataset}"
        args = (results.display, row.line, row.columns)
        measured = measurements.get(row.variant)
        ok, exact = _scaled(row.param_count_text, measured.parameters, 10**6) if measured else (True, None)
        tests = [
            ("param_count_m", ok, row.param_count_text, exact,
             f"{row.variant} has {measured.parameters if measured else 0:,} parameters; is this row another variant's?"),
            ("model", row.model == weights.hub_id.split("/")[-1], row.model, weights.hub_id.split("/")[-1],
             f"the published weights are {weights.hub_id}"),
            ("img_size", row.image_size == config["input_size"][1], row.image_size, config["input_size"][1],
             "the published weights are evaluated at this size (data_config)"),
            ("crop_pct", Decimal(str(row.crop_pct)) == Decimal(str(config["crop_pct"])), row.crop_pct,
             config["crop_pct"], "the published weights are evaluated with this crop (data_config)"),
            ("interpolation", row.interpolation == config["interpolation"], row.interpolation,
             config["interpolation"], "the published weights are evaluated with this interpolation (data_config)"),
            ("source", PurePosixPath(row.source).name == f"results-{row.dataset}.csv", row.source,
             f"results-{row.dataset}.csv", f"timm records {row.dataset} in results-{row.dataset}.csv"),
        ]
        for column, ok, recorded, expected, message in tests:
            checked += 1
            if not ok:
                findings.append(_finding(*args, column, row.variant, what, recorded, expected, message))
        if measured is not None and all(t[1] for t in tests):
            checked += 1
            ambiguous = _identity([("param_count_m", row.param_count_text, "parameters", 10**6)], row.variant,
                                  measurements, what, args)
            findings.extend([ambiguous] if ambiguous else [])
    for bench in benchmarks.rows if benchmarks is not None else ():
        measured = measurements.get(bench.variant)
        if measured is None:
            continue
        what = f"{bench.model or bench.variant} in {PurePosixPath(bench.source).name}"
        args = (benchmarks.display, bench.line, bench.columns)
        size = data_config(bench.variant)["input_size"][1]
        figures = [("param_count_m", bench.param_count_text, measured.parameters, 10**6, "parameters"),
                   ("gmacs", bench.gmacs_text, measured.macs, 10**9, "MACs (fvcore)"),
                   ("macts_m", bench.macts_text, measured.activations, 10**6, "activations (fvcore)")]
        held = True
        for column, written, value, unit, name in figures:
            checked += 1
            ok, exact = _scaled(written, value, unit)
            held = held and ok
            if not ok:
                findings.append(_finding(*args, column, bench.variant, what, written, exact,
                                         f"{bench.variant} has {value:,} {name} at the decimals written; "
                                         "is this row another variant's?"))
        if held:
            checked += 1
            attributes = {"param_count_m": "parameters", "gmacs": "macs", "macts_m": "activations"}
            ambiguous = _identity([(c, w, attributes[c], u) for c, w, _, u, _ in figures], bench.variant,
                                  measurements, what, args)
            findings.extend([ambiguous] if ambiguous else [])
        checked += 1
        if bench.image_size != size:
            findings.append(_finding(*args, "img_size", bench.variant, what, bench.image_size, size,
                                     "the pages show throughput at the published weights' input size"))
    return findings, checked
