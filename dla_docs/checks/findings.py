"""What a check finds: one :class:`Finding` per drift, collected in a :class:`VerifyReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dla_docs.errors import Location
from dla_docs.kinds import check_literal

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

    def fields_of(self, variant: str) -> list[FieldCheck]:
        return [f for f in self.fields if f.variant == variant]

