"""What a check finds: one :class:`Finding` per drift, collected in a :class:`VerifyReport`,
and a finding's one-line form (:func:`finding_line`). The report's data types: the one module
of ``checks`` that render imports (checks produce data, render decides how to show it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dla_docs.errors import Location, one_line
from dla_docs.kinds import check_literal
from dla_docs.zoo.variants import list_models

FindingKind = Literal["mismatch", "unknown-variant", "missing-variant", "checkpoint", "stale-page", "missing-page",
                      "extra-page"]
Status = Literal["ok", "drift", "not recorded", "not checked"]


@dataclass(frozen=True)
class Finding:
    """One drift: what was recorded, what was measured, by how much they differ, and where.

    ``kind`` is ``"mismatch"`` (a recorded figure that does not hold), ``"unknown-variant"``,
    ``"missing-variant"``, ``"checkpoint"`` (a checkpoint that does not fit the model),
    ``"stale-page"``, ``"missing-page"`` or ``"extra-page"``. ``field`` is the path inside
    the entry (``Metadata.FLOPs``); ``label`` names the entry (``Models[0] (dla60)``).
    ``fix`` is the value ``--fix`` would write, or ``None`` when it cannot fix this finding
    (an accuracy's fix is the decimal text to write, e.g. ``"74.63"``).
    """

    kind: FindingKind
    variant: str | None
    field: str
    message: str
    location: Location
    recorded: Any = None
    measured: Any = None
    difference: int | float | None = None
    relative_difference: float | None = None
    label: str = ""
    template: Path | None = None
    fix: int | str | None = None
    diff: tuple[str, ...] = ()
    measured_label: str = "measured"  # what ``measured`` is: "source" for the results source

    def __post_init__(self) -> None:
        check_literal(self, self.kind, FindingKind)

    @property
    def fixable(self) -> bool:
        return self.fix is not None


@dataclass(frozen=True)
class FieldCheck:
    """One recorded field of one variant set against its measurement: what the pages show.

    ``status`` is ``"ok"``, ``"drift"`` (then ``finding`` says where and by how much),
    ``"not recorded"``, or ``"not checked"`` (recorded, but nothing here can vouch for it;
    ``detail`` says why); ``detail`` qualifies the comparison (convention, tolerance, file).
    """

    variant: str
    field: str
    recorded: Any
    measured: Any
    status: Status
    detail: str = ""
    finding: Finding | None = None
    location: Location | None = None  # where the recorded value is written
    label: str = ""
    template: Path | None = None

    def __post_init__(self) -> None:
        check_literal(self, self.status, Status)


@dataclass
class VerifyReport:
    """All findings of one run, the per-field results behind them, and how many figures
    were checked."""

    findings: list[Finding] = field(default_factory=list)
    fields: list[FieldCheck] = field(default_factory=list)
    checked: int = 0
    models: int = 0
    templates: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchecked: list[FieldCheck] = field(default_factory=list)  # recorded, not checked (status "not checked")

    @property
    def ok(self) -> bool:
        return not self.findings

    def unchecked_by_field(self) -> list[tuple[str, str, list[str]]]:
        """The recorded fields nothing vouches for, as (field, why, the variants recording it):
        fields in the order of :attr:`unchecked` (the checks keep it in the order of
        ``recorded_fields.NOT_CHECKED``), variants in the zoo's order."""
        grouped: dict[str, tuple[str, list[str]]] = {}
        for check in self.unchecked:
            why, variants = grouped.setdefault(check.field, (check.detail, []))
            if check.variant not in variants:
                variants.append(check.variant)
        zoo = list_models()
        return [(name, why, sorted(variants, key=lambda v: zoo.index(v) if v in zoo else len(zoo)))
                for name, (why, variants) in grouped.items()]

    def fields_of(self, variant: str) -> list[FieldCheck]:
        return [f for f in self.fields if f.variant == variant]


# -- a finding on one line: what verify prints and the Verification page lists -----------------

def _percent(relative: float) -> str:
    return f"{relative * 100:+.3g}%"


def _subject(finding: Finding) -> str:
    return f"{finding.label}.{finding.field}" if finding.label else finding.field


def figures(finding: Finding) -> str:
    """``recorded R, measured M (difference D, P%)``, or ``""`` when nothing was measured."""
    if finding.recorded is None or finding.measured is None:
        return ""
    text = f"recorded {finding.recorded}, {finding.measured_label} {finding.measured}"
    if finding.difference is not None and finding.relative_difference is not None:
        text += f" (difference {finding.difference:+}, {_percent(finding.relative_difference)})"
    return text


def finding_line(finding: Finding) -> str:
    """One line: ``path:line:col: Models[i] (name).Metadata.FLOPs: recorded ..., measured ...: why``."""
    parts = [p for p in (figures(finding), finding.message) if p]
    fixable = " [fixable with --fix]" if finding.fixable else ""
    return one_line(f"{finding.location}: {_subject(finding)}: {'; '.join(parts)}{fixable}")
