"""The comparison rules for the figures the code measures: FLOPs, Parameters, File Size.

``dla-docs verify`` runs in CI, so every rule here is chosen never to cry wolf:

- ``FLOPs`` must equal the measurement exactly, under the configured convention;
- ``Parameters`` (when recorded) must equal the measurement rounded to 3 or more significant
  digits: ``33300000`` and ``33270000`` hold for a measured ``33268888``; ``30000000`` does not
  (trailing zeros cannot say how precise a figure is meant to be, so they never pass for more
  than they show);
- ``File Size`` was written by another serializer, so it holds within a relative tolerance
  (real checkpoint files make it exact: :func:`dla_docs.checks.verify.with_checkpoints`);
- ``Image Size``, ``Crop Pct``, ``Interpolation`` and ``ID`` are checked by
  :mod:`dla_docs.checks.recorded_fields`.
"""

from __future__ import annotations

from collections.abc import Callable

from dla_docs.checks.findings import FieldCheck, Finding
from dla_docs.checks.recorded_fields import check_recorded_fields
from dla_docs.config import Settings
from dla_docs.errors import Location
from dla_docs.measure.facts import Measurement
from dla_docs.metadata import ModelEntry, Template


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
    :data:`MIN_SIGNIFICANT_DIGITS` or more significant digits (at an exact half: up, or to even).
    Trailing zeros cannot show how precise a figure is meant to be, so they are never taken
    as precision beyond that: ``100000000`` does not pass for 53,389,720, while ``53400000``
    (3 digits) and ``53390000`` (4 digits) do. The most digits that work are returned.
    """
    if recorded <= 0 or measured <= 0:
        return _digits(measured) if recorded == measured else None
    digits = _digits(measured)
    for kept in range(digits, min(MIN_SIGNIFICANT_DIGITS, digits) - 1, -1):
        unit = 10 ** (digits - kept)
        off = 2 * abs(measured - recorded)  # in half units
        if recorded % unit == 0 and (off < unit or off == unit and (recorded > measured or recorded // unit % 2 == 0)):
            return kept  # nearer, or at an exact half rounded up or to even (3675 -> 3680, never 3670)
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
