"""The family page (``docs/index.md``): the decision table, "Which variant?", the plots.

Everything a reader chooses by is gathered here from the cards the run assembled (recorded
top-1/top-5, throughput and licence; measured MACs and memory) into one
:class:`~dla_docs.render.choose.Option` per variant, and every view (the table, the picks,
each card's verdict, the plots' fronts) is computed from those options.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from dla_docs.render import choose
from dla_docs.render.card import Card
from dla_docs.render.plot import throughput_hardware

if TYPE_CHECKING:  # Jinja only where the page is rendered (a warm run takes it from the store)
    from jinja2.sandbox import SandboxedEnvironment

MEMORY_BATCH = 32  # the batch the table's inference peak is given for (as the analysis table)
FAMILY_SEARCH_BOOST = 10  # the family page's search rank, above every card's (pages.CARD_SEARCH_BOOST)


@dataclass(frozen=True)
class Machine:
    """The recorded benchmark every variant has a throughput for: where it comes from."""

    source: str
    hardware: str
    precision: str
    batch: int

    @property
    def conditions(self) -> str:
        """How timm ran it, read from the file's name and the row (GPU, precision, batch, layout, versions...)."""
        from dla_docs.render.formatting import run_conditions

        return run_conditions(self)

    @property
    def batch_size(self) -> int:
        return self.batch


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


def unrounded(recorded) -> tuple[float | None, float | None]:  # noqa: ANN001 - a Recorded
    """ImageNet top-1 and top-5 as the results source has them (``74.632``), else as the
    model-index writes them (``74.63``): every comparison and difference starts from these,
    and only the shown figure is rounded."""
    row = next((r for r in recorded.results if r.dataset == "imagenet"), None)
    if row is not None:
        return row.top1, row.top5
    return recorded.top1, recorded.top5


def options(cards: Sequence[Card], machine: Machine | None) -> list[choose.Option]:
    """One option per variant with a recorded top-1 (the others cannot be ranked by accuracy)."""
    out = []
    for card in cards:
        r = card.recorded
        if r is None or r.top1 is None:
            continue
        top1, top5 = unrounded(r)
        out.append(choose.Option(Markup(card.name), top1, top5, card.measurement.macs, throughput_of(card, machine),
                                 Markup(r.pretrained.license)))  # the zoo's own table, not metadata
    return out


def card_verdict(cards: Sequence[Card], card: Card) -> choose.Verdict | None:
    """Where ``card`` stands on the family's accuracy/GMACs front (``None`` without a top-1),
    and the budgets the family page picks it for, so that the two never disagree."""
    machine = common_machine(cards)
    family = options(cards, machine)
    own = next((o for o in family if o.name == card.name), None)
    if own is None:
        return None
    picked = choose.named_in(own, choose.compute_picks(family), choose.throughput_picks(family))
    return replace(choose.verdict(own, family), picked=tuple(picked))


@dataclass(frozen=True)
class Against:
    """One context model beside the family: its figures, and the DLA variants it dominates."""

    model: Any                     # a ContextModel (recorded figures, as written, with their lines)
    throughput: float | None       # on the family's common machine, else None
    on_gmacs: tuple[str, ...]      # DLA variants it dominates on accuracy against GMACs
    on_speed: tuple[str, ...]      # ... on accuracy against throughput (the same machine)


def against_others(context: Sequence[Any], family: Sequence[choose.Option], machine: Machine | None) -> list[Against]:
    """Each context model with the DLA variants it dominates: it costs no more (GMACs), or is
    as fast or faster on the same machine, and beats the variant's top-1 beyond a tie."""
    out = []
    for c in context:
        mine = choose.Option(Markup(c.model), c.top1, None, c.macs, None, "")
        speed = c.samples_per_sec if machine is not None and c.benchmark_source == machine.source else None
        on_gmacs = tuple(o.name for o in family if c.macs <= o.macs and choose.beats(mine, o))
        on_speed = tuple(o.name for o in family if speed is not None and o.throughput is not None
                         and speed >= o.throughput and choose.beats(mine, o))
        out.append(Against(c, speed, on_gmacs, on_speed))
    return sorted(out, key=lambda a: (a.model.macs, a.model.model))


def context_points(against: Sequence[Against]) -> list[Any]:
    """The context models as the plots' muted markers, named by architecture (by the whole timm
    name where two share one), with images/s only where recorded on the family's common machine."""
    from collections import Counter

    from dla_docs.render.plot import ContextPoint

    shared = Counter(a.model.architecture for a in against)
    return [ContextPoint(a.model.architecture if shared[a.model.architecture] == 1 else a.model.model,
                         a.model.top1, a.model.parameters_m, a.model.gmacs, a.throughput) for a in against]


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
    from dla_docs.render.templating import render_template

    intro, rest = prose
    cards = site.cards
    machine = common_machine(cards)
    family = options(cards, machine)
    recorded = {card.name: card.recorded for card in cards if card.recorded is not None}
    accuracies = {o.name: o.top1 for o in family}
    unknown = [o.name for o in family if not o.licence_known]  # Markup names
    against = against_others(site.context, family, machine) if family else []
    points = context_points(against) if family else []
    return render_template(
        env, "pages/index.md",
        search_boost=FAMILY_SEARCH_BOOST, intro=Markup(intro), rest=Markup(rest), rows=table_rows(cards, machine), image_size=site.settings.image_size,
        has_accuracy=bool(family), machine=machine, memory_batch=MEMORY_BATCH,
        picks=choose.compute_picks(family) if family else [],
        speed_picks=choose.throughput_picks(family) if family else [],
        unknown_licence=unknown, known_licences=sorted({o.licence for o in family if o.licence_known}),
        front=choose.front(family), resolution_at_78=choose.resolution(78, 78),
        context_files=list(dict.fromkeys([c.results_source for c in site.context]
                                          + [c.benchmark_source for c in site.context])),
        against=against, undominated=[o.name for o in family if not any(o.name in a.on_gmacs for a in against)],
        undominated_speed=[o.name for o in family if not any(o.name in a.on_speed for a in against)],
        images=choose.IMAGENET_VALIDATION_IMAGES,
        plot=macs_vs_parameters_svg(site.measurements),  # the family's own scaling: no other families
        accuracy_plot=top1_vs_macs_svg(site.measurements, accuracies, points) if accuracies else "",
        throughput=throughput_vs_top1_svg(recorded, points) if accuracies else None,
        diffs=[(Markup(d.diff.a), Markup(d.diff.b), Markup(d.path)) for d in site.diffs],  # links to the side-by-side pages
        deploy=[card.deploy for card in cards if card.deploy is not None],
    )

