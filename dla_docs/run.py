"""The one flow behind ``build`` and ``verify``: zoo -> measurement -> checks -> rendering.

``generate_docs`` is a pure function of the project (its settings, templates and code): it
reads the configured templates, measures every variant (through the cache), checks the
recorded metadata, draws the graphs and renders every file of ``docs/`` in memory. The build
publishes its result; ``verify`` compares it with the committed pages. Because both call the
same function, a page that verify calls fresh is byte-for-byte what a build would write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from dla_docs.render import graphs
from dla_docs.measure.cache import MeasurementCache
from dla_docs.config import Settings
from dla_docs.measure.core import Measurement
from dla_docs.metadata import METADATA_FIELDS, ModelEntry, Template, read_templates
from dla_docs.render.pages import DocsInputs, FieldCheck, check_templates, render_docs
from dla_docs.measure.runner import measure_many
from dla_docs.zoo.structure import ModelStructure, extract_structure
from dla_docs.zoo.variants import list_models
from dla_docs.checks.findings import Finding, VerifyReport
from dla_docs.checks.verify import verify_templates
from dla_docs.checks.report import finding_line

CHECKED_FIELDS = ("FLOPs", "Parameters", "File Size")

Step = Callable[[str, int], Callable[[str, bool], None]]  # (description, total) -> advance


@dataclass(frozen=True)
class Generated:
    """A rendering of the whole docs folder and the check it shows."""

    files: dict[str, bytes]
    report: VerifyReport
    measurements: dict[str, Measurement]
    templates: list[Template]


def cache_for(settings: Settings, no_cache: bool) -> MeasurementCache | None:
    return None if no_cache or settings.cache_dir is None else MeasurementCache(settings.cache_dir)


def measured_value(field: str, m: Measurement, convention: str) -> int:
    return {"FLOPs": m.flops(convention), "Parameters": m.parameters, "File Size": m.checkpoint_bytes}[field]


def field_checks(entry: ModelEntry | None, m: Measurement, findings: Sequence[Finding],
                 settings: Settings) -> list[FieldCheck]:
    """Recorded against measured for the checked fields of one variant, with a status each."""
    drifted = {f.field.removeprefix("Metadata."): f for f in findings if f.variant == m.variant}
    checks = []
    for field in CHECKED_FIELDS:
        measured = measured_value(field, m, settings.convention)
        recorded = entry.metadata[field].value if entry and field in entry.metadata else None
        if recorded is None:
            checks.append(FieldCheck(field, None, measured, "not recorded"))
            continue
        detail = ""
        if field == "File Size":
            detail = f"{100 * (measured - recorded) / recorded:+.2f}%, tolerance {100 * settings.file_size_tolerance:g}%"
        elif field == "FLOPs":
            detail = f"{settings.convention} convention"
        status = "drift" if field in drifted else "ok"
        checks.append(FieldCheck(field, recorded, measured, status, detail))
    return checks


def _display(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def training_metadata(entry: ModelEntry | None) -> list[tuple[str, str]]:
    """The entry's recorded metadata other than the measured fields, in the canonical order."""
    if entry is None:
        return []
    rows = []
    for field in METADATA_FIELDS:
        if field in CHECKED_FIELDS or field not in entry.metadata:
            continue
        text = _display(entry.metadata[field].value)
        if text.strip():
            rows.append((field, text))
    return rows


def accuracy(entry: ModelEntry | None) -> tuple[float | None, float | None]:
    """ImageNet top-1 and top-5 accuracy (percent) where the entry records them."""
    if entry is None:
        return None, None
    for result in entry.results:
        if "imagenet" in result.dataset.casefold():
            return result.metrics.get("Top 1 Accuracy"), result.metrics.get("Top 5 Accuracy")
    return None, None


def _entries(templates: Sequence[Template]) -> dict[str, ModelEntry]:
    entries: dict[str, ModelEntry] = {}
    for template in templates:
        for entry in template.index.models:
            entries.setdefault(entry.name, entry)
    return entries


def structure_row(s: ModelStructure) -> dict[str, Any]:
    return {
        "name": Markup(s.variant),  # a registry name, not metadata: safe in links and code
        "block": s.block,
        "depths": ", ".join(str(stage.depth) for stage in s.stages),
        "roots": s.totals.roots,
        "blocks": s.totals.blocks,
        "channels": ", ".join(str(level.channels) for level in s.levels if level.name.startswith("level")),
    }


def _noop_step(description: str, total: int) -> Callable[[str, bool], None]:
    return lambda item, cached=False: None


def docs_inputs(settings: Settings, templates: Sequence[Template], measurements: Mapping[str, Measurement],
                report: VerifyReport, step: Step = _noop_step) -> DocsInputs:
    """Gather what the pages show: checks per variant, metadata, and the drawn graphs."""
    entries = _entries(templates)
    names = list(measurements)
    advance = step("drawing graphs", len(names))
    structures, hda, ida = [], {}, {}
    for name in names:
        structure = extract_structure(name, measurements[name])
        structures.append(structure)
        hda[name] = graphs.render_svg(graphs.hda_graph(structure))
        ida[name] = graphs.render_svg(graphs.ida_graph(structure))
        advance(name, False)
    first = templates[0]
    metadata_findings = [f for f in report.findings if f.kind == "mismatch"]
    return DocsInputs(
        settings=settings,
        family=first,
        measurements=measurements,
        checks={n: field_checks(entries.get(n), measurements[n], metadata_findings, settings) for n in names},
        training={n: training_metadata(entries.get(n)) for n in names},
        code={n: entries[n].code if n in entries else None for n in names},
        accuracy={n: accuracy(entries.get(n)) for n in names},
        findings=[finding_line(f) for f in report.findings],
        checked=report.checked,
        hda_svgs=hda,
        ida_svgs=ida,
        family_svg=graphs.render_svg(graphs.family_graph(structures)),
        structure_rows=[structure_row(s) for s in structures],
    )


def check_metadata(settings: Settings, templates: Sequence[Template],
                   measurements: Mapping[str, Measurement]) -> VerifyReport:
    """The metadata part of verify, exactly as the verification page shows it."""
    return verify_templates(settings, templates, measurements)


def measure_zoo(settings: Settings, no_cache: bool = False, step: Step = _noop_step,
                known: Mapping[str, Measurement] | None = None) -> dict[str, Measurement]:
    """Every variant at the configured size, in the zoo's order; ``known`` ones are reused."""
    known = {n: m for n, m in (known or {}).items() if m.image_size == settings.image_size}
    missing = [name for name in list_models() if name not in known]
    if missing:
        advance = step("measuring", len(missing))
        known.update(measure_many(missing, settings.image_size, cache_for(settings, no_cache), None, advance))
    return {name: known[name] for name in list_models()}


def generate_docs(settings: Settings, no_cache: bool = False, step: Step = _noop_step,
                  templates: Sequence[Template] | None = None,
                  measurements: Mapping[str, Measurement] | None = None) -> Generated:
    """Every file of ``docs/`` for the project as it stands, and the metadata check behind it.

    ``measurements`` already taken (by ``verify``) are reused; the rest of the zoo is measured.
    """
    templates = list(templates) if templates is not None else read_templates(list(settings.templates), settings.root)
    check_templates(settings, templates[0])
    measurements = measure_zoo(settings, no_cache, step, measurements)
    report = check_metadata(settings, templates, measurements)
    files = render_docs(docs_inputs(settings, templates, measurements, report, step))
    return Generated(files, report, measurements, templates)
