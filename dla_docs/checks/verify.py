"""Compare recorded model-index metadata and committed pages with what the code measures.

``dla-docs verify`` runs in CI, so every comparison here is chosen never to cry wolf:

- ``FLOPs`` must equal the measurement exactly, under the configured convention;
- ``Parameters`` (when recorded) must equal the measurement rounded to 3 or more significant
  digits: ``33300000`` and ``33270000`` hold for a measured ``33268888``; ``30000000`` does not
  (trailing zeros cannot say how precise a figure is meant to be, so they never pass for more
  than they show);
- ``File Size`` was written by another serializer, so it holds within a relative tolerance,
  unless real checkpoint files are given: then it must equal the file's size exactly, and
  every tensor's key, shape and dtype must be the model's (one that is not is a finding,
  naming the variant it belongs to if any, and its size is not taken as the entry's);
- ``Image Size`` must be the configured one, since that is the size every figure is measured at,
  and, with ``Crop Pct``, ``Interpolation`` and ``ID``, what the published weights' configuration
  says (:mod:`dla_docs.checks.recorded_fields`, which also lists the fields nothing can vouch for);
- ``Results`` accuracies are checked for range when the template is read, and against the
  configured results source at the precision written (:mod:`dla_docs.checks.results`);

Nothing here prints or writes: results are :class:`Finding` values in a :class:`VerifyReport`,
formatted by :mod:`dla_docs.checks.report` and fixed by :mod:`dla_docs.checks.fix`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dla_docs.checks.checkpoints import Checkpoints
from dla_docs.checks.findings import FieldCheck, Finding, VerifyReport
from dla_docs.checks.recorded_fields import check_recorded_fields, unchecked_fields
from dla_docs.checks.context import check_context
from dla_docs.checks.results import check_results
from dla_docs.checks.sources import check_source_rows
from dla_docs.checks.zoo import check_zoo
from dla_docs.config import Settings
from dla_docs.errors import Location
from dla_docs.fs import inside
from dla_docs.measure.facts import Measurement
from dla_docs.metadata import ModelEntry, Template
from dla_docs.metadata.context import ContextSource, load_context
from dla_docs.metadata.results import BenchmarkSource, ResultsSource, read_benchmarks, read_results
from dla_docs.zoo.variants import list_models


def _differences(recorded: int, measured: int) -> tuple[int, float]:
    difference = measured - recorded
    return difference, difference / recorded


def _finding(template: Template, entry: ModelEntry, name: str, recorded: int, measured: int, message: str,
             fix: int | None) -> Finding:
    located = entry.metadata[name]
    difference, relative = _differences(recorded, measured)
    return Finding(
        kind="mismatch", variant=entry.name, field=f"Metadata.{name}", message=message,
        location=Location(template.display, located.line, located.column), recorded=recorded,
        measured=measured, difference=difference, relative_difference=relative, label=entry.label,
        template=template.path, fix=fix,
    )


MIN_SIGNIFICANT_DIGITS = 3


def _digits(value: int) -> int:
    return len(str(abs(value)))


def held_precision(recorded: int, measured: int) -> int | None:
    """The significant digits at which ``recorded`` is ``measured`` correctly rounded, or ``None``.

    The rule: ``recorded`` holds when it equals ``measured`` rounded to
    :data:`MIN_SIGNIFICANT_DIGITS` or more significant digits (either way at an exact half).
    Trailing zeros cannot show how precise a figure is meant to be, so they are never taken
    as precision beyond that: ``100000000`` does not pass for 53,389,720, while ``53400000``
    (3 digits) and ``53390000`` (4 digits) do. The most digits that work are returned.
    """
    if recorded <= 0 or measured <= 0:
        return _digits(measured) if recorded == measured else None
    digits = _digits(measured)
    for kept in range(digits, min(MIN_SIGNIFICANT_DIGITS, digits) - 1, -1):
        unit = 10 ** (digits - kept)
        if recorded % unit == 0 and 2 * abs(measured - recorded) <= unit:
            return kept
    return None


def parameters_hold(recorded: int, measured: int) -> bool:
    """``recorded`` is ``measured`` rounded to 3 or more significant digits (see :func:`held_precision`)."""
    return held_precision(recorded, measured) is not None


def parameters_rule(recorded: int, measured: int) -> str:
    """The rule as it applies to this figure, for the card and the finding."""
    kept = held_precision(recorded, measured)
    if kept is None:
        return (f"must equal the measurement rounded to {MIN_SIGNIFICANT_DIGITS} or more significant digits "
                f"(e.g. {round_significant(measured, MIN_SIGNIFICANT_DIGITS)})")
    if kept >= _digits(measured):
        return "exact"
    return f"the measurement rounded to {kept} significant digits"


def round_significant(value: int, kept: int) -> int:
    """``value`` rounded half up to ``kept`` significant digits."""
    unit = 10 ** max(_digits(value) - kept, 0)
    return (value + unit // 2) // unit * unit


CARD_FIELDS = ("FLOPs", "Parameters", "File Size")  # shown on every card, recorded or not


def _field(template: Template, entry: ModelEntry, name: str, recorded, measured, ok: bool, detail: str,
           finding: Callable[[], Finding]) -> FieldCheck:
    located = entry.metadata[name]
    return FieldCheck(entry.name, name, recorded, measured, "ok" if ok else "drift", detail,
                      None if ok else finding(), Location(template.display, located.line, located.column),
                      entry.label, template.path)


def check_entry(template: Template, entry: ModelEntry, measurement: Measurement,
                settings: Settings) -> tuple[list[FieldCheck], int]:
    """Per-field results for one entry, and how many figures were checked."""
    fields: list[FieldCheck] = []
    meta = entry.metadata
    checked = 0

    def finding(name: str, recorded, measured, message: str, fix):
        return lambda: _finding(template, entry, name, recorded, measured, message, fix)

    if "FLOPs" in meta:
        recorded, flops = meta["FLOPs"].value, measurement.flops(settings.convention)
        fields.append(_field(template, entry, "FLOPs", recorded, flops, recorded == flops, f"{settings.convention} convention",
                             finding("FLOPs", recorded, flops,
                                     f"FLOPs ({settings.convention} convention) must match exactly", flops)))
    if "Parameters" in meta:
        recorded, measured = meta["Parameters"].value, measurement.parameters
        rule = parameters_rule(recorded, measured)
        fields.append(_field(template, entry, "Parameters", recorded, measured, parameters_hold(recorded, measured),
                             rule, finding("Parameters", recorded, measured, rule, measured)))
    if "File Size" in meta:
        recorded, measured = meta["File Size"].value, measurement.checkpoint_bytes
        _, relative = _differences(recorded, measured)
        tolerance = settings.file_size_tolerance
        detail = f"{100 * relative:+.2f}%, tolerance {100 * tolerance:g}%"
        fields.append(_field(template, entry, "File Size", recorded, measured, abs(relative) <= tolerance, detail,
                             finding("File Size", recorded, measured,
                                     f"differs by more than the {tolerance * 100:g}% tolerance", measured)))
    fields.extend(check_recorded_fields(template, entry, settings))  # Image Size, Crop Pct, Interpolation, ID
    checked += len(fields)
    checked += sum(len(result.metrics) for result in entry.results)  # ranges, checked when read
    return fields, checked


def with_checkpoints(report: VerifyReport, given: Checkpoints) -> VerifyReport:
    """``report`` as it reads with real checkpoint files: each variant's File Size must equal
    its file's size exactly (instead of the tolerance), and a file that does not fit its
    model is a finding. A view of the checks already made; nothing is measured again."""
    checkpoints = given.files
    fields, findings, checked = [], [f for f in report.findings if f.field != "Metadata.File Size"
                                     or f.variant not in checkpoints or checkpoints[f.variant].problem], report.checked
    for f in report.fields:
        facts = checkpoints.get(f.variant)
        if f.field != "File Size" or facts is None or facts.problem:
            fields.append(f)
            continue
        ok = f.recorded == facts.size
        finding = None if ok else Finding(
            kind="mismatch", variant=f.variant, field="Metadata.File Size",
            message=f"must equal the size of {facts.display} exactly", location=f.location, recorded=f.recorded,
            measured=facts.size, difference=facts.size - f.recorded,
            relative_difference=(facts.size - f.recorded) / f.recorded, label=f.label, template=f.template,
            fix=facts.size)
        fields.append(FieldCheck(f.variant, f.field, f.recorded, facts.size, "ok" if ok else "drift",
                                 f"exact: {facts.display}", finding, f.location, f.label, f.template))
        if finding is not None:
            findings.append(finding)
    documented = {f.variant: f for f in report.fields}
    for variant, facts in checkpoints.items():
        if variant not in documented:
            continue
        checked += 1
        if facts.problem:
            anchor = documented[variant]
            findings.append(Finding(kind="checkpoint", variant=variant, field="checkpoint", message=facts.problem,
                                    location=Location(facts.display), label=anchor.label, template=anchor.template))
    order = {t: i for i, t in enumerate(report.templates)}
    findings.sort(key=lambda f: (order.get(str(f.location.path), 0), f.location.line, f.location.column))
    return VerifyReport(findings=findings, fields=fields, checked=checked, models=report.models,
                        templates=list(report.templates), notes=[*report.notes, *given.notes],
                        unchecked=list(report.unchecked))


def card_checks(entry: ModelEntry | None, fields: Sequence[FieldCheck], measurement: Measurement,
                settings: Settings) -> tuple[FieldCheck, ...]:
    """The checked fields a card shows, in :data:`CARD_FIELDS` order; unrecorded ones as such."""
    by_field = {f.field: f for f in fields}
    measured = {"FLOPs": measurement.flops(settings.convention), "Parameters": measurement.parameters,
                "File Size": measurement.checkpoint_bytes}
    name = entry.name if entry else measurement.variant
    shown = tuple(by_field.get(f) or FieldCheck(name, f, None, measured[f], "not recorded") for f in CARD_FIELDS)
    # then the fields checked against the weights' configuration and the results source
    return shown + tuple(f for f in fields if f.field not in CARD_FIELDS)


# -- the whole check -------------------------------------------------------------------------

def verify_templates(
    settings: Settings,
    templates: Sequence[Template],
    measurements: Mapping[str, Measurement],
    expected: Sequence[str] | None = None,
    results: ResultsSource | None = None,
    benchmarks: BenchmarkSource | None = None,
    context: ContextSource | None = None,
) -> VerifyReport:
    """Every finding for ``templates`` against ``measurements`` (one per documented variant).

    ``expected`` is the set of variants the templates together must document (default:
    the whole zoo). The generated pages and real checkpoints are compared by ``verify``'s flow
    (:mod:`dla_docs.run`, with :func:`with_checkpoints`). ``results`` and ``benchmarks`` are the
    sources already read (default: the configured ones, if any).
    """
    known = list(expected) if expected is not None else list_models()
    if results is None:
        results = load_results(settings)
    if benchmarks is None:
        benchmarks = load_benchmarks(settings)
    report = VerifyReport(templates=[t.display for t in templates])
    zoo = set(list_models())
    for mismatch in check_zoo(templates, known):
        if mismatch.kind == "unknown-variant" and mismatch.name in zoo:
            continue  # in the zoo, only outside ``expected``: still verified below
        report.findings.append(Finding(mismatch.kind, mismatch.name, mismatch.field, mismatch.message,
                                       mismatch.location, label=mismatch.label))
    report.checked += len(known)
    report.notes.extend(_documented_twice(templates))
    for template in templates:
        for entry in template.index.models:
            if entry.name not in zoo:
                continue
            report.models += 1
            fields, checked = check_entry(template, entry, measurements[entry.name], settings)
            report.fields.extend(fields)
            report.findings.extend(f.finding for f in fields if f.finding is not None)
            report.checked += checked
            report.unchecked.extend(unchecked_fields(template, entry))
            if results is not None:
                accuracies = check_results(template, entry, results)
                report.fields.extend(accuracies)
                report.findings.extend(f.finding for f in accuracies if f.finding is not None)
                report.checked += len(accuracies)
    sources, checked = check_source_rows(results, benchmarks, measurements)
    report.findings.extend(sources)
    report.checked += checked
    context_findings, checked = check_context(context if context is not None else load_context(settings.root))
    report.findings.extend(context_findings)
    report.checked += checked
    order = {t.display: i for i, t in enumerate(templates)}
    report.findings.sort(key=lambda f: (order.get(str(f.location.path), 0), f.location.line, f.location.column))
    return report


def load_results(settings: Settings) -> ResultsSource | None:
    """The configured results source, read and validated (``None`` when none is configured)."""
    if settings.results is None:
        return None
    return read_results(settings.results, settings.root, set(list_models()))


def load_benchmarks(settings: Settings) -> BenchmarkSource | None:
    """The configured benchmark source, read and validated (``None`` when none is configured)."""
    if settings.benchmarks is None:
        return None
    return read_benchmarks(settings.benchmarks, settings.root, set(list_models()))


def _documented_twice(templates: Sequence[Template]) -> list[str]:
    """A note for each variant with entries in more than one template: the pages show the first."""
    places: dict[str, list[str]] = {}
    for template in templates:
        for entry in template.index.models:
            places.setdefault(entry.name, []).append(f"{template.display}:{entry.name_location.line}")
    return [f"{name} has entries in {len(where)} templates ({', '.join(where)}); each is verified, "
            "and the pages show the first" for name, where in places.items() if len(where) > 1]


def entries_to_measure(templates: Sequence[Template]) -> list[str]:
    """The zoo variants the templates document, in the zoo's order, each once."""
    documented = {e.name for t in templates for e in t.index.models}
    return [name for name in list_models() if name in documented]


# -- what the command runs -------------------------------------------------------------------

def resolve_paths(settings: Settings, given: Sequence[Path], option: str = "--template") -> list[Path]:
    """``given`` (relative to the working folder) or the configured templates.

    A template named on the command line may lie anywhere: reading a file the user names is
    no risk (only ``--fix`` writes it, and only there). Configured templates, includes,
    assets and every output stay inside the project.
    """
    if not given:
        return list(dict.fromkeys(settings.templates))
    return list(dict.fromkeys(Path(os.path.realpath(Path.cwd() / p)) for p in given))


def resolve_folder(settings: Settings, folder: Path | None, option: str) -> Path | None:
    return None if folder is None else inside(settings.root, str(Path.cwd() / folder), Location(str(folder)), option)
