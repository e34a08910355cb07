"""One page per meaningful pair of variants: what changed, level by level, and where in the graph.

The comparison itself is :func:`dla_docs.measure.diff.diff_variants`; this module only picks
the pairs and renders the page (Markdown with an inline HDA graph of the second variant,
its changed nodes outlined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup

from dla_docs.measure.conventions import FVCORE, MODEL_INDEX
from dla_docs.measure.diff import VariantDiff
from dla_docs.render.formatting import difference
from dla_docs.render.card import Svg

if TYPE_CHECKING:  # Jinja only where the page is rendered (a warm run takes it from the store)
    from jinja2.sandbox import SandboxedEnvironment

# The steps a reader takes through the family: width of the blocks (ResNeXt groups),
# Res2Net scales, cardinality, the compact stem, and depth.
DIFF_PAIRS: tuple[tuple[str, str], ...] = (
    ("dla60", "dla60x"), ("dla60x", "dla60_res2next"),
    ("dla102", "dla102x"), ("dla102x", "dla102x2"),
    ("dla46_c", "dla46x_c"), ("dla34", "dla60"),
)
TEMPLATE = "pages/diff.md"


@dataclass(frozen=True)
class DiffPage:
    diff: VariantDiff
    changed: frozenset[str]  # node ids of the second variant's HDA graph that differ
    svg: Svg  # the drawing

    @property
    def path(self) -> str:
        return f"diffs/{self.diff.a}-{self.diff.b}.md"

    @property
    def graph_path(self) -> str:
        return f"graphs/diff-{self.diff.a}-{self.diff.b}.svg"


def pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    """The diff pairs whose variants are both documented."""
    return [(a, b) for a, b in DIFF_PAIRS if a in names and b in names]


def _sign(a: int | None, b: int | None) -> str:
    if a is None or b is None or a == b:
        return "="
    return f"{(b - a) / a:+.1%}" if a else "new"


# The totals' row labels, keyed by the names measure.diff gives them; the FLOPs conventions'
# names come from their one definition (measure/conventions.py), as the text report's do.
TOTAL_LABELS = {"parameters": "parameters", "macs": f"MACs ({FVCORE.name})",
                f"flops_{MODEL_INDEX.key}": f"FLOPs ({MODEL_INDEX.name})",
                "activations": "activations (fvcore)", "checkpoint_bytes": "checkpoint size (bytes)"}


def _points(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else "=" if a == b else f"{difference(b, a)} points"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or b is None else "=" if a == b else f"{(b - a) / a:+.1%}"


def choice_rows(cards: Sequence, a: str, b: str) -> list[dict[str, str]]:
    """What a reader choosing between ``a`` and ``b`` compares first: accuracy and recorded
    throughput beside the costs, each with its change (accuracy in points, the rest in %).
    Accuracy differences start from the results source's unrounded figures (78.234 - 77.036 =
    +1.20, where the two-decimal figures would give +1.19)."""
    from dla_docs.render.family_page import MEMORY_BATCH, common_machine, throughput_of, unrounded

    by_name = {c.name: c for c in cards}
    if a not in by_name or b not in by_name:
        return []
    ca, cb = by_name[a], by_name[b]
    machine = common_machine(cards)
    rows = []
    for label, getter in (("ImageNet top-1 (%)", lambda c: unrounded(c.recorded)[0] if c.recorded else None),
                          ("ImageNet top-5 (%)", lambda c: unrounded(c.recorded)[1] if c.recorded else None)):
        va, vb = getter(ca), getter(cb)
        rows.append({"name": label, "a": "-" if va is None else f"{va:.2f}", "b": "-" if vb is None else f"{vb:.2f}",
                     "change": _points(va, vb)})
    if machine is not None:
        va, vb = throughput_of(ca, machine), throughput_of(cb, machine)
        rows.append({"name": f"images/s ({machine.hardware}, recorded)", "a": f"{va:,.0f}", "b": f"{vb:,.0f}",
                     "change": _ratio(va, vb), "note": f"{machine.hardware}: {machine.conditions}; {machine.source}"})
    ma, mb = ca.measurement, cb.measurement
    rows.append({"name": "parameters (M)", "a": f"{ma.parameters / 1e6:.2f}", "b": f"{mb.parameters / 1e6:.2f}",
                 "change": _ratio(ma.parameters, mb.parameters)})
    rows.append({"name": "GMACs", "a": f"{ma.macs / 1e9:.2f}", "b": f"{mb.macs / 1e9:.2f}",
                 "change": _ratio(ma.macs, mb.macs)})
    peaks = [next((x.inference for x in m.peak_memory.batches if x.batch == MEMORY_BATCH), None)
             if m.peak_memory else None for m in (ma, mb)]
    if None not in peaks:
        rows.append({"name": f"inference peak memory, fp32, batch {MEMORY_BATCH} (MB)", "a": f"{peaks[0] / 1e6:,.0f}",
                     "b": f"{peaks[1] / 1e6:,.0f}", "change": _ratio(*peaks)})
    licences = [c.recorded.pretrained.license if c.recorded else "-" for c in (ca, cb)]
    rows.append({"name": "licence of the weights", "a": licences[0], "b": licences[1],
                 "change": "=" if licences[0] == licences[1] else "differs"})
    return rows


def render_diff_page(env: SandboxedEnvironment, templates_dir, page: DiffPage, cards: Sequence = ()) -> str:
    from dla_docs.render.templating import render_template

    d = page.diff
    levels = [{"name": Markup(level.name), "parameters": level.parameters, "macs": level.macs,
               "field": level.receptive_field,
               "parameters_change": _sign(level.parameters.a, level.parameters.b),
               "macs_change": _sign(level.macs.a, level.macs.b)} for level in d.levels]
    totals = [{"name": TOTAL_LABELS.get(c.name, c.name.replace("_", " ")), "a": c.a, "b": c.b,
               "change": _sign(c.a, c.b)} for c in d.totals]
    memory = [{"name": c.name, "a": c.a, "b": c.b, "change": _sign(c.a, c.b)} for c in d.memory]
    config = [{"name": c.name.replace("_", " "), "a": c.a if not isinstance(c.a, list) else ", ".join(map(str, c.a)),
               "b": c.b if not isinstance(c.b, list) else ", ".join(map(str, c.b))} for c in d.config]
    return render_template(
        env, TEMPLATE, templates_dir / TEMPLATE, a=Markup(d.a), b=Markup(d.b), image_size=d.image_size,
        config=config, totals=totals, choice=choice_rows(cards, d.a, d.b), levels=levels, memory=memory, changed=len(page.changed),
        svg=Markup(page.svg.inline), graph=Markup(page.graph_path.removeprefix("graphs/")),
    )
