"""The site model: everything the renderers show, as frozen data, built once per command.

The way ``huggingface_hub``'s card data (``ModelCardData``) stands between a card's facts and
its text, a :class:`Site` stands between the stages and the renderers: the family (its
template and settings), one :class:`~dla_docs.render.card.Card` per variant and one
:class:`~dla_docs.render.diff_pages.DiffPage` per diff pair, with the check report and the
drawings. The renderers are functions of it (the pages: :func:`dla_docs.render.pages.render_docs`;
the Hub's cards: :func:`dla_docs.render.hf_card.hf_files`); a page's digest is taken from its
part of it (:mod:`dla_docs.render.page_cache`). :func:`site_model` builds it from the project's
inputs, the facts, the report and the drawings; it measures, checks and draws nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dla_docs.checks.findings import VerifyReport
from dla_docs.config import Settings
from dla_docs.measure.facts import Measurement
from dla_docs.metadata import ModelEntry, Template
from dla_docs.metadata.context import ContextModel
from dla_docs.metadata.recorded import Recorded
from dla_docs.render.card import Card, Graphs, Svg, shown_checks
from dla_docs.render.diff_pages import DiffPage

if TYPE_CHECKING:
    from dla_docs.inputs import Inputs
    from dla_docs.measure.stored import StoredFacts
    from dla_docs.render.site_graphs import SiteDrawings


@dataclass(frozen=True)
class Recordings:
    """What the pages show of the recorded sources alone, needing no measurement: each variant's
    model-index entry and recorded facts (accuracy, throughput, weights...) and the context
    models. Made once from the inputs (:func:`recordings`), while the variants are being
    measured when they are; the family page's throughput plot is a view of it, drawn once
    (:attr:`throughput`)."""

    entries: Mapping[str, ModelEntry | None]  # by variant, in the family's order
    recorded: Mapping[str, Recorded]
    context: tuple[ContextModel, ...]

    @functools.cached_property
    def throughput(self) -> dict[str, Any] | None:
        from dla_docs.render.family_page import throughput_plot

        return throughput_plot(self.recorded, self.context)


@dataclass(frozen=True)
class Site:
    """Everything the pages show: the family template, one card per variant, the check report."""

    settings: Settings
    family: Template                 # the family page's template (prose + model-index)
    cards: Sequence[Card]
    report: VerifyReport
    family_svg: Svg
    recordings: Recordings  # what the recorded sources alone show: entries, recorded facts, the context models
    diffs: Sequence[DiffPage] = ()  # variant diff pages (dla_docs.render.diff_pages)

    @property
    def measurements(self) -> dict[str, Measurement]:
        return {card.name: card.measurement for card in self.cards}


def recordings(inputs: Inputs, names: Sequence[str]) -> Recordings:
    """What the recorded sources say of the variants ``names`` (see :class:`Recordings`)."""
    from dla_docs.metadata.recorded import recorded_facts
    from dla_docs.zoo.variants import VARIANTS

    configured = inputs.configured
    entries = {}
    for template in configured:
        for entry in template.index.models:
            entries.setdefault(entry.name, entry)
    text_of = {e.name: t.text for t in reversed(configured) for e in t.index.models}
    collections = [c for t in configured for c in t.index.collections]
    return Recordings(
        entries={name: entries.get(name) for name in names},
        recorded={name: recorded_facts(name, entries.get(name), text_of.get(name, ""), collections, inputs.results,
                                       inputs.benchmarks, VARIANTS[name].block == "res2net") for name in names},
        context=tuple(inputs.context.rows) if inputs.context is not None else ())


def cards(inputs: Inputs, facts: Mapping[str, StoredFacts], report: VerifyReport,
          drawings: SiteDrawings | None, recorded: Recordings) -> list[Card]:
    """One card per variant (in ``facts``' order): every fact its pages show, the graphs when drawn."""
    from dla_docs.zoo.variants import VARIANTS

    out = []
    for name, stored in facts.items():
        entry = recorded.entries[name]
        out.append(Card(
            name=name, config=VARIANTS[name], facts=stored, entry=entry,
            checks=shown_checks(name, report.fields_of(name) if entry is not None else [],
                                stored.facts.measurement, inputs.settings.convention),
            graphs=drawings.graphs(name) if drawings is not None else Graphs(),
            recorded=recorded.recorded[name],
            deploy=inputs.deploy.get(name),
        ))
    return out


def site_model(inputs: Inputs, facts: Mapping[str, StoredFacts], report: VerifyReport,
               drawings: SiteDrawings | None = None, recorded: Recordings | None = None) -> Site:
    """The site of ``facts`` (every variant, in the zoo's order), as checked in ``report``: the
    diff pages only where ``drawings`` drew them. ``recorded``: what :func:`recordings` made of
    the same inputs for the same variants, if it was made before."""
    from dla_docs.measure.diff import diff_variants
    from dla_docs.render.diff_pages import pairs

    recorded = recorded if recorded is not None else recordings(inputs, list(facts))
    all_cards = cards(inputs, facts, report, drawings, recorded)
    m = {card.name: card.measurement for card in all_cards}
    diffs = []
    for a, b in pairs(list(m)):  # in the family's order
        drawn = drawings.diff(a, b) if drawings is not None else None
        if drawn is not None:
            diffs.append(DiffPage(diff_variants(m[a], m[b]), *drawn))
    return Site(settings=inputs.settings, family=inputs.configured[0], cards=tuple(all_cards), report=report,
                family_svg=drawings.family() if drawings is not None else Svg(), diffs=tuple(diffs),
                recordings=recorded)
