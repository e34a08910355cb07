"""The checked fields a model card shows, one row per field, recorded or not."""

from __future__ import annotations

from collections.abc import Sequence

from dla_docs.checks.findings import FieldCheck
from dla_docs.config import Settings
from dla_docs.measure.facts import Measurement
from dla_docs.metadata import ModelEntry

CARD_FIELDS = ("FLOPs", "Parameters", "File Size")  # shown on every card, recorded or not


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
