"""The family page (``docs/index.md``): the decision table, "Which variant?", the plots.

Everything a reader chooses by is gathered here from the cards the run assembled (recorded
top-1/top-5, throughput and licence; measured MACs and memory) into one
:class:`~dla_docs.render.choose.Option` per variant, and every view (the table, the picks,
each card's verdict, the plots' fronts) is computed from those options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from dla_docs.render import choose
from dla_docs.render.card import Card
from dla_docs.render.plot import throughput_hardware
from dla_docs.render.templating import render_template

MEMORY_BATCH = 32  # the batch the table's inference peak is given for (as the analysis table)
FAMILY_SEARCH_BOOST = 10  # the family page's search rank, above every card's (pages.CARD_SEARCH_BOOST)


@dataclass(frozen=True)
class Machine:
    """The recorded benchmark every variant has a throughput for: where it comes from."""

    source: str
    hardware: str
    precision: str
    batch: int


def common_machine(cards: Sequence[Card]) -> Machine | None:
    recorded = {c.name: c.recorded for c in cards if c.recorded is not None}
    if len(recorded) != len(cards):
        return None
    chosen = throughput_hardware(recorded)
    if chosen is None:
        return None
    bench = next(b for b in cards[0].recorded.benchmarks if b.source == chosen[0])
    return Machine(chosen[0], chosen[1], bench.precision, bench.batch_size)


def throughput_of(card: Card, machine: Machine | None) -> float | None:
    if machine is None or card.recorded is None:
        return None
    return next((b.samples_per_sec for b in card.recorded.benchmarks if b.source == machine.source), None)


def options(cards: Sequence[Card], machine: Machine | None) -> list[choose.Option]:
    """One option per variant with a recorded top-1 (the others cannot be ranked by accuracy)."""
    out = []
    for card in cards:
        r = card.recorded
        if r is None or r.top1 is None:
            continue
        out.append(choose.Option(Markup(card.name), r.top1, r.top5, card.measurement.macs, throughput_of(card, machine),
                                 Markup(r.pretrained.license)))  # the zoo's own table, not metadata
    return out


def card_verdict(cards: Sequence[Card], card: Card) -> choose.Verdict | None:
    """Where ``card`` stands on the family's accuracy/GMACs front (``None`` without a top-1)."""
    family = options(cards, None)
    own = next((o for o in family if o.name == card.name), None)
    return None if own is None else choose.verdict(own, family)


def _inference_peak(card: Card) -> int | None:
    pm = card.measurement.peak_memory
    if pm is None:
        return None
    return next((b.inference for b in pm.batches if b.batch == MEMORY_BATCH), None)


def table_rows(cards: Sequence[Card], machine: Machine | None) -> list[dict[str, Any]]:
    rows = []
    for card in cards:
        top1, top5 = card.accuracy
        licence = Markup(card.recorded.pretrained.license) if card.recorded is not None else "-"
        rows.append({
            "name": Markup(card.name), "m": card.measurement,
            "top1": top1 or "-", "top1_sort": top1 or "-1", "top5": top5 or "-", "top5_sort": top5 or "-1",
            "throughput": throughput_of(card, machine), "memory": _inference_peak(card),
            "licence": licence, "licence_known": choose.Option("", 0, None, 0, None, licence).licence_known,
        })
    return rows


def family_page(env: SandboxedEnvironment, site, prose: tuple[str, str]) -> str:
    from dla_docs.render.plot import macs_vs_parameters_svg, throughput_vs_top1_svg, top1_vs_macs_svg

    intro, rest = prose
    cards = site.cards
    machine = common_machine(cards)
    family = options(cards, machine)
    recorded = {card.name: card.recorded for card in cards if card.recorded is not None}
    accuracies = {o.name: o.top1 for o in family}
    unknown = [o.name for o in family if not o.licence_known]  # Markup names
    return render_template(
        env, "pages/index.md",
        search_boost=FAMILY_SEARCH_BOOST, intro=Markup(intro), rest=Markup(rest), rows=table_rows(cards, machine), image_size=site.settings.image_size,
        has_accuracy=bool(family), machine=machine, memory_batch=MEMORY_BATCH,
        picks=choose.compute_picks(family) if family else [],
        speed_picks=choose.throughput_picks(family) if family else [],
        unknown_licence=unknown, known_licences=sorted({o.licence for o in family if o.licence_known}),
        front=choose.pareto_front({o.name: (o.macs, o.top1) for o in family}),
        plot=macs_vs_parameters_svg(site.measurements),
        accuracy_plot=top1_vs_macs_svg(site.measurements, accuracies) if accuracies else "",
        throughput=throughput_vs_top1_svg(recorded) if accuracies else None,
    )

