"""One page per meaningful pair of variants: what changed, level by level, and where in the graph.

The comparison itself is :func:`dla_docs.measure.diff.diff_variants`; this module only picks
the pairs and renders the page (Markdown with an inline HDA graph of the second variant,
its changed nodes outlined).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from dla_docs.measure.diff import VariantDiff, changed_nodes, diff_variants
from dla_docs.measure.facts import Measurement
from dla_docs.measure.structure import ModelStructure
from dla_docs.render.graphs import svg_for_inline
from dla_docs.render.templating import render_template

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
    svg: str

    @property
    def path(self) -> str:
        return f"diffs/{self.diff.a}-{self.diff.b}.md"

    @property
    def graph_path(self) -> str:
        return f"graphs/diff-{self.diff.a}-{self.diff.b}.svg"


def pairs(names: Sequence[str]) -> list[tuple[str, str]]:
    """The diff pairs whose variants are both documented."""
    return [(a, b) for a, b in DIFF_PAIRS if a in names and b in names]


def plan(measurements: Mapping[str, Measurement], structures: Mapping[str, ModelStructure]
         ) -> list[tuple[VariantDiff, frozenset[str]]]:
    """The comparison and the changed nodes of every pair, before any graph is drawn."""
    return [(diff_variants(measurements[a], measurements[b]), frozenset(changed_nodes(structures[a], structures[b])))
            for a, b in pairs(list(measurements))]


def _sign(a: int | None, b: int | None) -> str:
    if a is None or b is None or a == b:
        return "="
    return f"{(b - a) / a:+.1%}" if a else "new"


def render_diff_page(env: SandboxedEnvironment, templates_dir, page: DiffPage) -> str:
    d = page.diff
    levels = [{"name": Markup(level.name), "parameters": level.parameters, "macs": level.macs,
               "field": level.receptive_field,
               "parameters_change": _sign(level.parameters.a, level.parameters.b),
               "macs_change": _sign(level.macs.a, level.macs.b)} for level in d.levels]
    totals = [{"name": c.name.replace("_", " "), "a": c.a, "b": c.b, "change": _sign(c.a, c.b)} for c in d.totals]
    memory = [{"name": c.name, "a": c.a, "b": c.b, "change": _sign(c.a, c.b)} for c in d.memory]
    config = [{"name": c.name.replace("_", " "), "a": c.a if not isinstance(c.a, list) else ", ".join(map(str, c.a)),
               "b": c.b if not isinstance(c.b, list) else ", ".join(map(str, c.b))} for c in d.config]
    return render_template(
        env, TEMPLATE, templates_dir / TEMPLATE, a=Markup(d.a), b=Markup(d.b), image_size=d.image_size,
        config=config, totals=totals, levels=levels, memory=memory, changed=len(page.changed),
        svg=Markup(svg_for_inline(page.svg)), graph=Markup(page.graph_path.removeprefix("graphs/")),
    )
