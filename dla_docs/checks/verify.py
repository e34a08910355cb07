"""The whole check of ``dla-docs verify``: every finding for the templates against the measurements.

Each comparison is made by its own module: the measured figures (FLOPs, Parameters, File
Size: :mod:`dla_docs.checks.figures`), the fields the weights' configuration vouches for
(:mod:`dla_docs.checks.recorded_fields`), the accuracies against the results source
(:mod:`dla_docs.checks.results`), the sources' own rows (:mod:`dla_docs.checks.sources`) and
the model index against the zoo (:mod:`dla_docs.checks.zoo`). This module puts them together
into one :class:`VerifyReport`, and re-reads a report with real checkpoint files
(:func:`with_checkpoints`).

Nothing here prints or writes: results are :class:`Finding` values in a :class:`VerifyReport`,
formatted by :mod:`dla_docs.checks.report` and fixed by :mod:`dla_docs.checks.fix`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dla_docs.checks.checkpoints import Checkpoints
from dla_docs.checks.figures import check_entry
from dla_docs.checks.findings import FieldCheck, Finding, VerifyReport
from dla_docs.checks.context import check_context
from dla_docs.checks.recorded_fields import in_field_order, unchecked_fields
from dla_docs.checks.results import check_results
from dla_docs.checks.sources import check_source_rows
from dla_docs.checks.zoo import check_zoo
from dla_docs.config import Settings
from dla_docs.errors import Location
from dla_docs.measure.facts import Measurement
from dla_docs.metadata import Template
from dla_docs.metadata.context import ContextSource
from dla_docs.metadata.results import BenchmarkSource, ResultsSource
from dla_docs.zoo.variants import list_models


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


# -- the whole check -------------------------------------------------------------------------

def verify_templates(settings: Settings, templates: Sequence[Template], measurements: Mapping[str, Measurement],
                     results: ResultsSource | None, benchmarks: BenchmarkSource | None,
                     context: ContextSource | None) -> VerifyReport:
    """Every finding for ``templates`` against ``measurements`` (one per documented variant) and
    the sources already read (``None``: none configured, or no context file). Together the
    templates must document the whole zoo. The generated pages and real checkpoints are compared
    by ``verify``'s flow (:mod:`dla_docs.run`, with :func:`with_checkpoints`).
    """
    known = list_models()
    report = VerifyReport(templates=[t.display for t in templates])
    zoo = set(known)
    for mismatch in check_zoo(templates, known):
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
    context_findings, checked = check_context(context)
    report.findings.extend(context_findings)
    report.checked += checked
    order = {t.display: i for i, t in enumerate(templates)}
    report.findings.sort(key=lambda f: (order.get(str(f.location.path), 0), f.location.line, f.location.column))
    report.unchecked = in_field_order(report.unchecked)
    return report


def _documented_twice(templates: Sequence[Template]) -> list[str]:
    """A note for each variant with entries in more than one template: the pages show the first."""
    places: dict[str, list[str]] = {}
    for template in templates:
        for entry in template.index.models:
            places.setdefault(entry.name, []).append(f"{template.display}:{entry.name_location.line}")
    return [f"{name} has entries in {len(where)} templates ({', '.join(where)}); each is verified, "
            "and the pages show the first" for name, where in places.items() if len(where) > 1]


