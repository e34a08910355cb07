"""``dla-docs verify --fix``: write measured (or source) values into a template, and nothing else.

A maintainer reviews the diff of a fix, so it must contain exactly the drifted figures.
Re-dumping the YAML would re-quote, re-indent and re-wrap the whole block, so instead each
fix replaces the written value's exact character span (known from the reader) in the
original text: comments, key order, quoting, line endings and the prose around the block
keep every byte. The result is read back and compared with the original before it is
written, atomically, and only when something changed, so a second ``--fix`` is a no-op. The
write is a compare-and-swap (:func:`dla_docs.fs.replace_if_unchanged`): an edit made by someone
else while verify ran is kept and reported, never overwritten.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dla_docs.checks.findings import Finding, VerifyReport
from dla_docs.errors import DlaDocsError, InputError, Location
from dla_docs.fs import ChangedOnDisk, remove_stale_temps, replace_if_unchanged, write_atomic  # noqa: F401
from dla_docs.measure.facts import Measurement
from dla_docs.metadata import (
    Located,
    ModelEntry,
    ModelIndexError,
    Template,
    parse_template,
)


class FixError(DlaDocsError):
    """A fix that would change more than the drifted values; nothing was written."""


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` of a template with ``new`` (an insertion when they are equal)."""

    start: int
    end: int
    new: str
    line: int
    variant: str
    field: str
    old_value: Any
    new_value: Any


@dataclass(frozen=True)
class FixResult:
    """What ``--fix`` did to one template."""

    path: Path
    display: str
    edits: tuple[Edit, ...]

    @property
    def changed(self) -> bool:
        return bool(self.edits)


def written(located: Located, value: int) -> str:
    """``value`` written the way the old value was: quoted stays quoted."""
    return f"{located.style}{value}{located.style}" if located.style else str(value)


def _replace(entry: ModelEntry, field: str, value: int) -> Edit:
    located = entry.metadata[field]
    return Edit(located.start, located.end, written(located, value), located.line, entry.name,
                f"Metadata.{field}", located.value, value)


def _add_parameters(template: Template, entry: ModelEntry, value: int) -> Edit | None:
    """Insert ``Parameters`` right after ``FLOPs``, as the model index orders them."""
    flops = entry.metadata.get("FLOPs")
    if flops is None:
        return None
    text = template.text
    if entry.metadata_flow:
        return Edit(flops.end, flops.end, f", Parameters: {value}", flops.line, entry.name,
                    "Metadata.Parameters", None, value)
    line_end = text.find("\n", flops.end)
    if line_end < 0:
        return None
    indent = " " * (flops.key_column - 1)
    insert_at = line_end + 1
    return Edit(insert_at, insert_at, f"{indent}Parameters: {value}{template.newline}", flops.line + 1,
                entry.name, "Metadata.Parameters", None, value)


_RESULT_FIELD = re.compile(r"^Results\[(\d+)\]\.Metrics\.(.+)$")


def _replace_metric(template: Template, entry: ModelEntry, index: int, metric: str, value: str) -> Edit | None:
    """The accuracy written again with ``value``'s digits, keeping its quotes and its ``%``."""
    if index >= len(entry.results) or metric not in entry.results[index].metric_locations:
        return None
    located = entry.results[index].metric_locations[metric]
    raw = template.text[located.start:located.end]
    quote = located.style or ""
    inner = raw[len(quote):len(raw) - len(quote)] if quote else raw
    percent = "%" if inner.rstrip().endswith("%") else ""
    return Edit(located.start, located.end, f"{quote}{value}{percent}{quote}", located.line, entry.name,
                f"Results[{index}].Metrics.{metric}", located.value, float(value))


def plan_edits(template: Template, findings: Sequence[Finding],
               measurements: Mapping[str, Measurement] | None = None, add_missing: bool = False) -> list[Edit]:
    """The edits that fix ``findings`` in ``template`` (and add missing ``Parameters``)."""
    edits = []
    for finding in findings:
        if finding.template != template.path or finding.fix is None or not finding.field.startswith(
                ("Metadata.", "Results[")):
            continue
        entry = template.index.by_name(finding.variant or "")
        metric = _RESULT_FIELD.match(finding.field)
        if metric and entry is not None:
            edit = _replace_metric(template, entry, int(metric.group(1)), metric.group(2), str(finding.fix))
            if edit is not None and edit.old_value != edit.new_value:
                edits.append(edit)
            continue
        field = finding.field.removeprefix("Metadata.")
        if entry is not None and field in entry.metadata and entry.metadata[field].value != finding.fix:
            edits.append(_replace(entry, field, finding.fix))
    if add_missing and measurements:
        for entry in template.index.models:
            if "Parameters" not in entry.metadata and entry.name in measurements:
                edit = _add_parameters(template, entry, measurements[entry.name].parameters)
                if edit is not None:
                    edits.append(edit)
    return sorted(edits, key=lambda e: (e.start, e.end))


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with every edit applied; edits must not overlap."""
    pieces, position = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < position:
            raise FixError(f"overlapping fixes at offset {edit.start}; nothing was written")
        pieces += [text[position:edit.start], edit.new]
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def _snapshot(template: Template) -> list[tuple[Any, ...]]:
    """Everything the index says, as plain values, to compare before and after a fix."""
    return [
        (e.name, e.in_collection, e.code, e.config, e.weights,
         {k: v.value for k, v in e.metadata.items()}, [(r.task, r.dataset, dict(r.metrics)) for r in e.results])
        for e in template.index.models
    ] + [(c.name, c.paper_title, c.url) for c in template.index.collections]


def _check_result(template: Template, new_text: str, edits: Sequence[Edit]) -> None:
    """The fixed text must read back as the old index with exactly the edited values changed."""
    try:
        fixed = parse_template(new_text, template.path, template.display)
    except ModelIndexError as exc:  # pragma: no cover - a bug in planning, never user input
        raise FixError(f"{template.display}: the fixed template would not read back ({exc.problems[0]}); "
                       "nothing was written") from None
    expected = _snapshot(template)
    position = {e.name: i for i, e in enumerate(template.index.models)}
    for edit in edits:
        metric = _RESULT_FIELD.match(edit.field)
        if metric:
            expected[position[edit.variant]][6][int(metric.group(1))][2][metric.group(2)] = edit.new_value
        else:
            expected[position[edit.variant]][5][edit.field.removeprefix("Metadata.")] = edit.new_value
    if _snapshot(fixed) != expected or fixed.before != template.before or fixed.after != template.after:
        raise FixError(f"{template.display}: the fix would change more than the drifted values; nothing was written")


def fix_template(template: Template, findings: Sequence[Finding],
                 measurements: Mapping[str, Measurement] | None = None, add_missing: bool = False) -> FixResult:
    """Apply the fixes for ``template``; the file is written only when something changes."""
    remove_stale_temps(template.path)  # what a killed --fix left beside the template
    edits = plan_edits(template, findings, measurements, add_missing)
    if not edits:
        return FixResult(template.path, template.display, ())
    new_text = apply_edits(template.text, edits)
    _check_result(template, new_text, edits)
    where = Location(template.display)
    try:  # compare-and-swap: written only if the file still holds exactly what was verified
        replace_if_unchanged(template.path, template.text.encode("utf-8"), new_text.encode("utf-8"))
    except ChangedOnDisk as exc:
        kept = f"; a later edit was saved as {exc.kept_at.name}" if exc.kept_at else ""
        raise InputError(where, "--fix", "changed on disk while it was being verified or fixed; the other edit "
                         f"was kept and nothing was fixed{kept}; run again") from None
    except FileNotFoundError:
        raise InputError(where, "--fix", "removed while it was being verified; nothing was written") from None
    except OSError as exc:
        raise InputError(where, "--fix", f"cannot write the template: {exc.strerror or exc}; "
                         "nothing was written") from None
    return FixResult(template.path, template.display, tuple(_new_lines(template.text, edits)))


def _new_lines(text: str, edits: Sequence[Edit]) -> list[Edit]:
    """The edits with ``line`` counted in the fixed file, where a reader will look for them."""
    shifted, delta = [], 0
    for edit in edits:
        shifted.append(replace(edit, line=edit.line + delta))
        delta += edit.new.count("\n") - text.count("\n", edit.start, edit.end)
    return shifted


def refuse_read_only(template: Template) -> None:
    """Refuse to fix a template its owner made read-only (no write permission for the owner, or
    none for this process): replacing it would undo that choice (root may replace any file)."""
    try:
        mode = os.stat(template.path).st_mode
    except OSError:
        return  # a removed template is reported by the write itself
    if not mode & stat.S_IWUSR or not os.access(template.path, os.W_OK):
        raise InputError(Location(template.display), "--fix",
                         f"is read-only (mode {stat.S_IMODE(mode):04o}); --fix does not replace a file made "
                         "read-only: make it writable (chmod u+w) to fix it; nothing was written")


def fix_templates(templates: Sequence[Template], report: VerifyReport,
                  measurements: Mapping[str, Measurement] | None = None, add_missing: bool = False) -> list[FixResult]:
    """Fix every template of ``report``; see :func:`fix_template`. A read-only template that
    needs a fix stops the run before any template is written."""
    for template in templates:
        if plan_edits(template, report.findings, measurements, add_missing):
            refuse_read_only(template)
    return [fix_template(t, report.findings, measurements, add_missing) for t in templates]
