"""Render every generated file of ``docs/`` in memory, from Jinja templates and measurements.

Rendering is pure: the result is a mapping of relative path to bytes, which the build
writes through a staging folder and ``dla-docs verify`` compares with the committed pages.
Same inputs, same bytes.

Templates run in the sandbox of :mod:`dla_docs.render.templating`: every value they print is
escaped as inert page text unless it is :class:`~markupsafe.Markup` made here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from dla_docs.metadata import citations
from dla_docs.render import formatting
from dla_docs.render.citations import bibtex
from dla_docs.config import Settings
from dla_docs.errors import InputError, Location
from dla_docs.render.graphs import svg_for_inline
from dla_docs.measure.core import Measurement
from dla_docs.metadata import Template
from dla_docs.render.templating import (LineMap, as_written, environment, load_string, load_template, render_string,
                         render_template)
from dla_docs.zoo.variants import VARIANTS, VariantConfig

PAGE_TEMPLATES = "pages"
ASSETS = "assets"
SNIPPETS = "code_snippets.md"
BLOCK_NAMES = {"basic": "basic (two 3x3 convolutions)", "bottleneck": "bottleneck",
               "res2net": "Res2Net bottleneck (4 scales)"}


@dataclass(frozen=True)
class FieldCheck:
    """One recorded field of one variant set against its measurement, for the pages."""

    field: str
    recorded: Any
    measured: Any
    status: str  # "ok", "drift" or "not recorded"
    detail: str = ""

    @property
    def recorded_text(self) -> Markup:
        return formatting.page_text("-" if self.recorded is None else _number(self.recorded))

    @property
    def measured_text(self) -> Markup:
        return formatting.page_text("-" if self.measured is None else _number(self.measured))

    @property
    def status_html(self) -> Markup:
        label = {"ok": "&#10003; agrees", "drift": "&#10007; drift", "not recorded": "not recorded"}[self.status]
        css = {"ok": "ok", "drift": "drift", "not recorded": "missing"}[self.status]
        detail = formatting.page_text(self.detail)
        suffix = Markup(" ({})").format(detail) if self.detail else Markup("")
        return Markup('<span class="dla-status-{}">{}</span>{}').format(css, Markup(label), suffix)


def _number(value: Any) -> str:
    return formatting.integer(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class DocsInputs:
    """Everything the pages show; gathered by the pipeline, never computed here."""

    settings: Settings
    family: Template                 # the family page's template (prose + model-index)
    measurements: Mapping[str, Measurement]
    checks: Mapping[str, Sequence[FieldCheck]]
    training: Mapping[str, Sequence[tuple[str, Any]]]
    code: Mapping[str, str | None]
    accuracy: Mapping[str, tuple[float | None, float | None]]
    findings: Sequence[str]
    checked: int
    hda_svgs: Mapping[str, str]
    ida_svgs: Mapping[str, str]
    family_svg: str
    structure_rows: Sequence[Mapping[str, Any]]


def _parts(m: Measurement) -> list[dict[str, Any]]:
    levels = {lvl.name: lvl for lvl in m.levels}
    rows = []
    for name, part in m.parts.items():
        level = levels.get(name)
        rows.append({
            "name": name,
            "shape": f"{level.channels} x {level.height} x {level.width}" if level else "-",
            "stride": level.stride if level else "-",
            "parameters": part.parameters,
            "macs": part.macs,
        })
    return rows


def _skipped(m: Measurement) -> list[dict[str, Any]]:
    rows = []
    for op, calls in m.skipped_ops.items():
        elements = m.skipped_op_elements.get(op)
        rows.append({
            "name": op,
            "calls": calls,
            "elements_text": formatting.integer(elements) if elements is not None else "not sized",
            "share": formatting.percent(elements, m.macs, 3) if elements is not None else "-",
        })
    return rows


def _accuracy_text(value: float | None) -> tuple[str, str]:
    return ("-", "-1") if value is None else (f"{value:.2f}", f"{value}")


def _snippets(env: SandboxedEnvironment, templates_dir: Path, name: str) -> str:
    return render_template(env, SNIPPETS, templates_dir / SNIPPETS, model_name=Markup(name))


def model_card(env: SandboxedEnvironment, inputs: DocsInputs, name: str) -> str:
    config: VariantConfig = VARIANTS[name]
    templates_dir = inputs.settings.root / "templates"
    return render_template(
        env, f"{PAGE_TEMPLATES}/model_card.md", templates_dir / PAGE_TEMPLATES / "model_card.md",
        name=Markup(name), title=Markup(config.title), config=config, m=inputs.measurements[name],
        block_name=BLOCK_NAMES[config.block],
        checks=inputs.checks.get(name, ()),
        parts=_parts(inputs.measurements[name]),
        skipped=_skipped(inputs.measurements[name]),
        hda_svg=Markup(svg_for_inline(inputs.hda_svgs[name])),
        ida_svg=Markup(svg_for_inline(inputs.ida_svgs[name])),
        training=inputs.training.get(name, ()),
        code=inputs.code.get(name),
        snippets=Markup(_snippets(env, templates_dir, name)),
        citations=[Markup(bibtex(c)) for c in citations.for_variant(config.block)],
    )


def citation_blocks() -> dict[str, Markup]:
    """The BibTeX of every cited work, for the family template: ``{{ citation.dla }}``."""
    return {name: Markup(bibtex(c)) for name, c in citations.TEMPLATE_NAMES.items()}


def family_prose(template: Template) -> str:
    """The family page's Markdown: the template without its model-index comment."""
    return template.before.rstrip() + "\n\n" + template.after.strip()


def prose_line_map(template: Template) -> LineMap:
    """Lines of :func:`family_prose` -> lines of the template file it was cut from.

    The prose is the Markdown before the model-index comment, a blank line, and the
    Markdown after it; lines after the comment shift by the comment's length.
    """
    before_lines = template.before.rstrip().count("\n") + 1
    after_offset = len(template.text) - len(template.after.lstrip())
    after_line = template.text.count("\n", 0, after_offset) + 1

    def line_of(line: int) -> int:
        return line if line <= before_lines else after_line + line - before_lines - 2

    return line_of


def split_intro(markdown: str) -> tuple[str, str]:
    """The prose before its first ``##`` heading, and the rest (the comparison goes between)."""
    match = re.search(r"^## ", markdown, re.M)
    return (markdown, "") if match is None else (markdown[:match.start()], markdown[match.start():])


def family_page(env: SandboxedEnvironment, inputs: DocsInputs) -> str:
    from dla_docs.render.plot import macs_vs_parameters_svg

    templates_dir = inputs.settings.root / "templates"
    first = next(iter(inputs.measurements))
    prose = render_string(env, family_prose(inputs.family), inputs.family.path, prose_line_map(inputs.family),
                          model_name=Markup(first), citation=citation_blocks())
    intro, rest = split_intro(prose)
    rows = []
    for name, m in inputs.measurements.items():
        top1, top5 = inputs.accuracy.get(name, (None, None))
        (t1, s1), (t5, s5) = _accuracy_text(top1), _accuracy_text(top5)
        rows.append({"name": Markup(name), "m": m, "top1": t1, "top1_sort": s1, "top5": t5, "top5_sort": s5})
    return render_template(
        env, f"{PAGE_TEMPLATES}/index.md", templates_dir / PAGE_TEMPLATES / "index.md",
        intro=Markup(intro), rest=Markup(rest), rows=rows, image_size=inputs.settings.image_size,
        has_accuracy=any(v != (None, None) for v in inputs.accuracy.values()),
        plot=macs_vs_parameters_svg(inputs.measurements),
    )


def architecture_page(env: SandboxedEnvironment, inputs: DocsInputs) -> str:
    templates_dir = inputs.settings.root / "templates"
    return render_template(
        env, f"{PAGE_TEMPLATES}/architecture.md", templates_dir / PAGE_TEMPLATES / "architecture.md",
        family_svg=Markup(svg_for_inline(inputs.family_svg)), rows=inputs.structure_rows,
    )


def verification_page(env: SandboxedEnvironment, inputs: DocsInputs) -> str:
    s = inputs.settings
    templates_dir = s.root / "templates"
    return render_template(
        env, f"{PAGE_TEMPLATES}/verification.md", templates_dir / PAGE_TEMPLATES / "verification.md",
        templates=[t.relative_to(s.root).as_posix() for t in s.templates],
        image_size=s.image_size, convention=s.convention,
        tolerance=f"{100 * s.file_size_tolerance:g}%",
        findings=inputs.findings, checked=inputs.checked,
        table=[(Markup(name), inputs.checks.get(name, ())) for name in inputs.measurements],
    )


def nav_file(names: Sequence[str]) -> str:
    """docs/.nav.yml, inherited by mkdocs.yml: the navigation in the zoo's order."""
    lines = ["# Generated by dla-docs build: the site's navigation, in the model zoo's order.", "nav:",
             "  - Family: index.md", "  - Architecture: architecture.md", "  - Model cards:"]
    lines += [f"      - {name}: models/{name}.md" for name in names]
    lines += ["  - Verification: verification.md", ""]
    return "\n".join(lines)


def _assets(templates_dir: Path, root: Path) -> dict[str, bytes]:
    """Every file under ``templates/assets``, copied as is; a link leading out of
    ``templates/`` is refused, so a build never publishes a file from elsewhere."""
    folder = templates_dir / ASSETS
    base = templates_dir.resolve()
    files = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        display = as_written(path, root)
        target = path.resolve()
        if base not in target.parents:
            raise InputError(Location(display), "asset", f"is a link to {target}, outside templates/; refused")
        try:
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
        except OSError as exc:
            raise InputError(Location(display), "asset", f"cannot read: {exc.strerror or exc}") from None
    return files


def _with_final_newline(text: str) -> bytes:
    text = re.sub(r"\n{3,}", "\n\n", text)
    return (text.rstrip("\n") + "\n").encode("utf-8")


PAGES = ("index.md", "model_card.md", "architecture.md", "verification.md")


def check_templates(settings: Settings, family: Template) -> None:
    """Compile every page template and the family prose, and follow their includes.

    Run before measuring and drawing, so that a template error is reported in a second
    rather than after the slow steps; rendering checks the same things again.
    """
    templates_dir = settings.root / "templates"
    env = environment(templates_dir, settings.root)
    load_string(env, family_prose(family), family.path, prose_line_map(family))
    load_template(env, SNIPPETS, templates_dir / SNIPPETS)
    for page in PAGES:
        load_template(env, f"{PAGE_TEMPLATES}/{page}", templates_dir / PAGE_TEMPLATES / page)


def render_docs(inputs: DocsInputs) -> dict[str, bytes]:
    """Every file under ``docs/``, keyed by relative POSIX path."""
    templates_dir = inputs.settings.root / "templates"
    env = environment(templates_dir, inputs.settings.root)
    names = list(inputs.measurements)
    files: dict[str, bytes] = {
        "index.md": _with_final_newline(family_page(env, inputs)),
        "architecture.md": _with_final_newline(architecture_page(env, inputs)),
        "verification.md": _with_final_newline(verification_page(env, inputs)),
        ".nav.yml": nav_file(names).encode(),
    }
    for name in names:
        files[f"models/{name}.md"] = _with_final_newline(model_card(env, inputs, name))
    for name in names:
        files[f"graphs/{name}-hda.svg"] = inputs.hda_svgs[name].encode()
        files[f"graphs/{name}-ida.svg"] = inputs.ida_svgs[name].encode()
    files["graphs/family.svg"] = inputs.family_svg.encode()
    files.update(_assets(templates_dir, inputs.settings.root))
    return dict(sorted(files.items()))
