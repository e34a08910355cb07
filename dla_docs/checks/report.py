"""``dla-docs verify`` output: text for people, JSON for programs, annotations for GitHub.

Formatting only: the findings come from :mod:`dla_docs.checks.verify` and the fixes from
:mod:`dla_docs.checks.fix`, so every format carries the same facts. Text lines start with
``path:line:col:`` so editors and terminals can jump to them; GitHub's ``::error``
workflow commands put each finding on the template line in a pull request's diff.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dla_docs.checks.findings import Finding, VerifyReport, figures, finding_line
from dla_docs.errors import Location, one_line
from dla_docs.metadata import Problem

if TYPE_CHECKING:  # --fix's results: a plain verify never imports the fixer
    from dla_docs.checks.fix import FixResult


def summary(report: VerifyReport) -> str:
    where = ", ".join(report.templates) or "no template"
    head = f"dla-docs verify: {report.models} models in {where}, {report.checked} checks"
    head = one_line(head)
    if report.ok:
        return f"{head}: everything holds"
    fixable = sum(f.fixable for f in report.findings)
    count = len(report.findings)
    return f"{head}: {count} finding{'s' * (count != 1)} ({fixable} fixable with --fix)"


def fix_lines(fixes: Sequence[FixResult]) -> list[str]:
    lines = []
    for result in fixes:
        for edit in result.edits:
            old = "(absent)" if edit.old_value is None else edit.old_value
            lines.append(one_line(f"{result.display}:{edit.line}: fixed {edit.variant} {edit.field}: "
                                  f"{old} -> {edit.new_value}"))
    return lines


def unchecked_note(report: VerifyReport) -> list[str]:
    """One note naming the recorded fields nothing vouches for (``--format json`` lists each)."""
    fields = [name for name, _, _ in report.unchecked_by_field()]
    if not fields:
        return []
    return [f"recorded, not checked (no source here can vouch for them): {', '.join(fields)}; "
            "--format json lists each with the reason"]


def format_text(report: VerifyReport, fixes: Sequence[FixResult] = ()) -> str:
    lines = fix_lines(fixes)
    for finding in report.findings:
        lines.append(finding_line(finding))
        lines.extend(f"    {one_line(line)}" for line in finding.diff)
    lines.extend(one_line(f"note: {note}") for note in [*report.notes, *unchecked_note(report)])
    lines.append(summary(report))
    return "\n".join(lines)


def _location(location: Location) -> dict[str, Any]:
    return {"file": str(location.path), "line": location.line or None, "column": location.column or None}


def finding_record(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "variant": finding.variant,
        "entry": finding.label or None,
        "field": finding.field,
        **_location(finding.location),
        "recorded": finding.recorded,
        "measured": finding.measured,
        "difference": finding.difference,
        "compared_with": finding.measured_label,
        "relative_difference": finding.relative_difference,
        "message": finding.message,
        "fixable": finding.fixable,
        "fix": finding.fix,
        "diff": list(finding.diff),
    }


def format_json(report: VerifyReport, fixes: Sequence[FixResult] = ()) -> str:
    record = {
        "ok": report.ok,
        "exit_code": 0 if report.ok else 1,
        "templates": report.templates,
        "models": report.models,
        "checked": report.checked,
        "findings": [finding_record(f) for f in report.findings],
        "fixed": [
            {"file": r.display, "line": e.line, "variant": e.variant, "field": e.field,
             "old": e.old_value, "new": e.new_value}
            for r in fixes for e in r.edits
        ],
        "notes": report.notes,
        "not_checked": [
            {"field": name, "why": why,
             "where": {c.variant: str(c.location) for c in report.unchecked if c.field == name and c.location}}
            for name, why, _ in report.unchecked_by_field()
        ],
    }
    return json.dumps(_safe(record), indent=2)


def _safe(value: Any) -> Any:
    """Every string in a JSON record through :func:`one_line`: no controls, no bidi, cut."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    return value


def _escape_data(text: str) -> str:
    text = "\n".join(one_line(line) for line in text.split("\n"))  # kept lines are escaped below
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, message: str, location: Location | None = None, title: str = "") -> str:
    """A GitHub Actions workflow command, e.g. ``::error file=a.md,line=3,col=5::message``."""
    props = []
    if location is not None:
        props.append(f"file={_escape_property(str(location.path))}")
        if location.line:
            props.append(f"line={location.line}")
            if location.column:
                props.append(f"col={location.column}")
    if title:
        props.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}" if props else f"::{level}::{_escape_data(message)}"


def format_github(report: VerifyReport, fixes: Sequence[FixResult] = ()) -> str:
    lines = fix_lines(fixes)
    for finding in report.findings:
        message = "; ".join(p for p in (figures(finding), finding.message) if p)
        if finding.diff:
            message += "\n" + "\n".join(finding.diff)
        title = f"{finding.variant} {finding.field}" if finding.kind == "mismatch" else f"{finding.kind}: {finding.variant or finding.field}"
        lines.append(annotation("error", message, finding.location, title))
    lines.extend(annotation("notice", note) for note in [*report.notes, *unchecked_note(report)])
    lines.append(summary(report))
    return "\n".join(lines)


def format_report(report: VerifyReport, fmt: str, fixes: Sequence[FixResult] = ()) -> str:
    return {"text": format_text, "json": format_json, "github": format_github}[fmt](report, fixes)


def format_problems(problems: Sequence[Problem], fmt: str) -> str:
    """Input problems (exit 2) for the machine formats; text goes to stderr via the CLI."""
    if fmt == "json":
        return json.dumps(_safe({
            "ok": False, "exit_code": 2,
            "errors": [{**_location(p.location), "field": p.field, "message": p.message} for p in problems],
        }), indent=2)
    return "\n".join(annotation("error", f"{p.field}: {p.message}" if p.field else p.message, p.location,
                                "dla-docs verify: invalid input") for p in problems)
