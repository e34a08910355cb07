"""The family page (``docs/index.md``): the decision table, "Which variant?", the plots.

Everything a reader chooses by is gathered here from the cards the run assembled (recorded
top-1/top-5, throughput and licence; measured MACs and memory) into one
:class:`~dla_docs.render.choose.Option` per variant, and every view (the table, the picks,
each card's verdict, the plots' fronts) is computed from those options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    return machine_of([c.recorded for c in cards])


def machine_of(recorded: Sequence[Any]) -> Machine | None:
    """The machine every variant has a recorded throughput for (``recorded``: each variant's
    Recorded, ``None`` where it has none), the first listed."""
    if any(r is None for r in recorded):
        return None
    chosen = throughput_hardware({r.name: r for r in recorded})
    if chosen is None:
        return None
    bench = next(b for b in recorded[0].benchmarks if b.source == chosen[0])
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


def card_verdicts(cards: Sequence[Card]) -> dict[str, choose.Verdict | None]:
    """Where each card stands on the family's accuracy/GMACs front (``None`` without a top-1),
    and the budgets the family page picks it for, so that the two never disagree: the family's
    options and picks are taken once for all the cards."""
    family = options(cards, common_machine(cards))
    compute, speed = (choose.compute_picks(family), choose.throughput_picks(family)) if family else ([], [])
    out: dict[str, choose.Verdict | None] = {card.name: None for card in cards}
    for own in family:
        out[str(own.name)] = replace(choose.verdict(own, family), picked=tuple(choose.named_in(own, compute, speed)))
    return out


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
        speed = _speed(c, machine)
        on_gmacs = tuple(o.name for o in family if c.macs <= o.macs and choose.beats(mine, o))
        on_speed = tuple(o.name for o in family if speed is not None and o.throughput is not None
                         and speed >= o.throughput and choose.beats(mine, o))
        out.append(Against(c, speed, on_gmacs, on_speed))
    return sorted(out, key=lambda a: (a.model.macs, a.model.model))


def _speed(model: Any, machine: Machine | None) -> float | None:
    """A context model's recorded images/s on the family's common machine (else ``None``)."""
    return model.samples_per_sec if machine is not None and model.benchmark_source == machine.source else None


def context_points(context: Sequence[Any], machine: Machine | None) -> list[Any]:
    """The context models as the plots' muted markers (by GMACs, then name), named by
    architecture (by the whole timm name where two share one), with images/s only where
    recorded on the family's common machine."""
    from collections import Counter

    from dla_docs.render.plot import ContextPoint

    shared = Counter(c.architecture for c in context)
    return [ContextPoint(c.architecture if shared[c.architecture] == 1 else c.model, c.top1, c.parameters_m,
                         c.gmacs, _speed(c, machine)) for c in sorted(context, key=lambda c: (c.macs, c.model))]


def throughput_plot(recorded: Mapping[str, Any], context: Sequence[Any]) -> dict[str, Any] | None:
    """The plot of recorded images/s against recorded top-1 (``recorded``: each variant's
    Recorded, in the family's order): recorded figures only, so it can be drawn before anything
    is measured. ``None`` when no variant has a recorded top-1."""
    from dla_docs.render.plot import throughput_vs_top1_svg

    if not any(r.top1 is not None for r in recorded.values()):
        return None
    return throughput_vs_top1_svg(recorded, context_points(context, machine_of(list(recorded.values()))))


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
    from dla_docs.render.plot import macs_vs_parameters_svg, top1_vs_macs_svg
    from dla_docs.render.templating import render_template

    intro, rest = prose
    cards, context = site.cards, site.recordings.context
    machine = common_machine(cards)
    family = options(cards, machine)
    accuracies = {o.name: o.top1 for o in family}
    unknown = [o.name for o in family if not o.licence_known]  # Markup names
    against = against_others(context, family, machine) if family else []
    points = context_points(context, machine) if family else []
    return render_template(
        env, "pages/index.md",
        search_boost=FAMILY_SEARCH_BOOST, intro=Markup(intro), rest=Markup(rest), rows=table_rows(cards, machine), image_size=site.settings.image_size,
        has_accuracy=bool(family), machine=machine, memory_batch=MEMORY_BATCH,
        picks=choose.compute_picks(family) if family else [],
        speed_picks=choose.throughput_picks(family) if family else [],
        unknown_licence=unknown, known_licences=sorted({o.licence for o in family if o.licence_known}),
        front=choose.front(family), resolution_at_78=choose.resolution(78, 78),
        context_files=list(dict.fromkeys([c.results_source for c in context] + [c.benchmark_source for c in context])),
        against=against, undominated=[o.name for o in family if not any(o.name in a.on_gmacs for a in against)],
        undominated_speed=[o.name for o in family if not any(o.name in a.on_speed for a in against)],
        images=choose.IMAGENET_VALIDATION_IMAGES,
        plot=macs_vs_parameters_svg(site.measurements),  # the family's own scaling: no other families
        accuracy_plot=top1_vs_macs_svg(site.measurements, accuracies, points) if accuracies else "",
        throughput=site.recordings.throughput,  # drawn from recorded figures alone (None without a top-1)
        diffs=[(Markup(d.diff.a), Markup(d.diff.b), Markup(d.path)) for d in site.diffs],  # links to the side-by-side pages
        deploy=[card.deploy for card in cards if card.deploy is not None],
    )

