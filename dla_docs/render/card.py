"""One variant's card: every fact its page shows, gathered once and carried as one object.

A :class:`Card` is part of the site model (:mod:`dla_docs.render.site_model`), assembled per
variant from the stages' results (configuration, the stored facts, the model-index entry, the
field checks and the drawn graphs); templates read its fields and properties. Which checked
fields a card shows is decided here, once (:func:`shown_checks`). Nothing here measures or
checks anything.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dla_docs.checks.findings import FieldCheck
from dla_docs.deploy.record import DeployCard
from dla_docs.measure.conventions import Convention
from dla_docs.measure.facts import Measurement
from dla_docs.measure.stored import StoredFacts
from dla_docs.measure.structure import ModelStructure
from dla_docs.metadata import METADATA_FIELDS, ModelEntry
from dla_docs.metadata.recorded import Recorded
from dla_docs.zoo.variants import VariantConfig

MEASURED_FIELDS = ("FLOPs", "Parameters", "File Size")  # shown as checks on every card, recorded or not


def _display(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def shown_checks(name: str, fields: Sequence[FieldCheck], measurement: Measurement,
                 convention: Convention) -> tuple[FieldCheck, ...]:
    """The checked fields a card shows: the :data:`MEASURED_FIELDS` first, in that order (an
    unrecorded one as "not recorded", with its measured value), then the fields checked against
    the weights' configuration and the results source."""
    by_field = {f.field: f for f in fields}
    measured = {"FLOPs": measurement.flops(convention), "Parameters": measurement.parameters,
                "File Size": measurement.checkpoint_bytes}
    shown = tuple(by_field.get(f) or FieldCheck(name, f, None, measured[f], "not recorded") for f in MEASURED_FIELDS)
    return shown + tuple(f for f in fields if f.field not in MEASURED_FIELDS)


@dataclass(frozen=True)
class Svg:
    """A drawing as the SVG file ``dot`` wrote, and the form a page inlines: computed once, when
    first asked (for a graph drawn anew, by the thread that drew it, while the other variants
    are being measured)."""

    text: str = ""

    @functools.cached_property
    def inline(self) -> str:
        from dla_docs.render.graphs import svg_for_inline

        return svg_for_inline(self.text)


@dataclass(frozen=True)
class Graphs:
    """A variant's three drawings (empty where nothing was drawn: the Hub's cards)."""

    hda: Svg = Svg()       # every block and aggregation node, stage by stage
    ida: Svg = Svg()       # the chain of levels
    overview: Svg = Svg()  # the trees folded, one node per root (the card's figure)


@dataclass(frozen=True)
class Card:
    name: str
    config: VariantConfig
    facts: StoredFacts  # the measurement and the structure, with the digest of their content
    entry: ModelEntry | None
    checks: tuple[FieldCheck, ...]
    graphs: Graphs = Graphs()
    recorded: Recorded | None = None  # accuracy, throughput, weights, links: recorded sources only
    deploy: DeployCard | None = None  # deployability and latency, from the committed deploy record

    @property
    def measurement(self) -> Measurement:
        return self.facts.facts.measurement

    @property
    def structure(self) -> ModelStructure:
        return self.facts.facts.structure

    @property
    def training(self) -> list[tuple[str, str]]:
        """The entry's recorded metadata other than the measured fields, in the canonical order."""
        if self.entry is None:
            return []
        rows = []
        for field in METADATA_FIELDS:
            if field in MEASURED_FIELDS or field not in self.entry.metadata:
                continue
            text = _display(self.entry.metadata[field].value)
            if text.strip():
                rows.append((field, text))
        return rows

    @property
    def code(self) -> str | None:
        return self.entry.code if self.entry else None

    @property
    def accuracy(self) -> tuple[str | None, str | None]:
        """ImageNet top-1 and top-5 accuracy (percent) as the model-index writes them."""
        if self.recorded is None:
            return None, None
        return self.recorded.top1_text, self.recorded.top5_text

    @property
    def layers_note(self) -> str:
        """Where the recorded Layers or Architecture contradict the variant's own configuration."""
        if self.recorded is None:
            return ""
        notes = []
        named = re.search(r"(\d+)", self.config.title)
        if self.recorded.layers is not None and named and int(named.group(1)) != self.recorded.layers:
            notes.append(f"The model-index records Layers: {self.recorded.layers}, but this variant is "
                         f"{self.config.title}, {named.group(1)} layers as the paper counts them")
        if self.config.block == "basic" and any("bottleneck" in a.casefold() for a in self.recorded.architecture):
            notes.append("The model-index lists a bottleneck block, but this variant's configuration uses basic "
                         "blocks (two 3x3 convolutions) only")
        return ". ".join(notes)
