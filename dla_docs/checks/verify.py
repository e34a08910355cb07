"""Compare recorded model-index metadata and committed pages with what the code measures.

``dla-docs verify`` runs in CI, so every comparison here is chosen never to cry wolf:

- ``FLOPs`` must equal the measurement exactly, under the configured convention;
- ``Parameters`` (when recorded) must equal the measurement *at the precision written*:
  ``33270000`` is the measured ``33268888`` rounded to its ten-thousands, so it holds, while a
  figure written to the unit must match to the unit;
- ``File Size`` was written by another serializer, so it holds within a relative tolerance,
  unless real checkpoint files are given: then it must equal the file's size exactly, and
  the checkpoint must load strictly into our model (one that does not is a finding naming
  the variant it belongs to, and its size is not taken as the entry's);
- ``Image Size`` must be the configured one, since that is the size every figure is measured at;
- ``Results`` accuracies are checked for range only, when the template is read;
- the generated pages under ``docs/`` must be byte-identical to a fresh rendering.

Nothing here prints or writes: results are :class:`Finding` values in a :class:`VerifyReport`,
formatted by :mod:`dla_docs.checks.report` and fixed by :mod:`dla_docs.checks.fix`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from dla_docs.measure.checkpoint import CheckpointError, load_state_dict
from dla_docs.config import Settings, inside
from dla_docs.errors import InputError, Location
from dla_docs.measure.core import Measurement
from dla_docs.metadata.modelindex import ModelEntry, Template, check_zoo
from dla_docs.zoo.variants import _build, create_uninitialised, get_config, list_models

DIFF_LINES = 12  # lines of a stale page's unified diff shown in a finding
CHECKPOINT_SUFFIXES = (".pth", ".safetensors")

RenderPages = Callable[[], Mapping[str, bytes]]


@dataclass(frozen=True)
class Finding:
    """One drift: what was recorded, what was measured, by how much they differ, and where.

    ``kind`` is ``"mismatch"`` (a recorded figure that does not hold), ``"unknown-variant"``,
    ``"missing-variant"``, ``"checkpoint"`` (a checkpoint that does not fit the model),
    ``"stale-page"``, ``"missing-page"`` or ``"extra-page"``. ``field`` is the path inside
    the entry (``Metadata.FLOPs``); ``label`` names the entry (``Models[0] (dla60)``).
    ``fix`` is the value ``--fix`` would write, or ``None`` when it cannot fix this finding.
    """

    kind: str
    variant: str | None
    field: str
    message: str
    location: Location
    recorded: Any = None
    measured: Any = None
    difference: int | float | None = None
    relative_difference: float | None = None
    label: str = ""
    template: Path | None = None
    fix: int | None = None
    diff: tuple[str, ...] = ()

    @property
    def fixable(self) -> bool:
        return self.fix is not None


@dataclass
class VerifyReport:
    """All findings of one run, and how many figures were checked."""

    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    models: int = 0
    templates: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


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


def precision_unit(recorded: int) -> int:
    """The place value of the last significant digit written: 33270000 -> 10000."""
    digits = str(recorded)
    return 10 ** (len(digits) - len(digits.rstrip("0")))


def parameters_hold(recorded: int, measured: int) -> bool:
    """``recorded`` is ``measured`` correctly rounded at the precision ``recorded`` is written to."""
    return 2 * abs(measured - recorded) <= precision_unit(recorded)


def check_entry(template: Template, entry: ModelEntry, measurement: Measurement, settings: Settings,
                checkpoint: CheckpointFacts | None = None) -> tuple[list[Finding], int]:
    """Findings for one entry, and how many figures were checked."""
    findings: list[Finding] = []
    checked = 0
    meta = entry.metadata
    if "FLOPs" in meta:
        checked += 1
        flops = measurement.flops(settings.convention)
        if meta["FLOPs"].value != flops:
            findings.append(_finding(template, entry, "FLOPs", meta["FLOPs"].value, flops,
                                     f"FLOPs ({settings.convention} convention) must match exactly", flops))
    if "Parameters" in meta:
        checked += 1
        recorded = meta["Parameters"].value
        if not parameters_hold(recorded, measurement.parameters):
            unit = precision_unit(recorded)
            precision = "to the unit" if unit == 1 else f"rounded to a multiple of {unit:,}"
            findings.append(_finding(template, entry, "Parameters", recorded, measurement.parameters,
                                     f"parameters must match as written ({precision})", measurement.parameters))
    if "File Size" in meta:
        checked += 1
        recorded = meta["File Size"].value
        if checkpoint is not None and not checkpoint.problem:
            if recorded != checkpoint.size:
                findings.append(_finding(template, entry, "File Size", recorded, checkpoint.size,
                                         f"must equal the size of {checkpoint.display} exactly", checkpoint.size))
        else:
            measured = measurement.checkpoint_bytes
            _, relative = _differences(recorded, measured)
            tolerance = settings.file_size_tolerance
            if abs(relative) > tolerance:
                findings.append(_finding(template, entry, "File Size", recorded, measured,
                                         f"differs by more than the {tolerance * 100:g}% tolerance", measured))
    if "Image Size" in meta:
        checked += 1
        if meta["Image Size"].value != settings.image_size:
            findings.append(_finding(template, entry, "Image Size", meta["Image Size"].value, settings.image_size,
                                     "every figure is measured at the configured image-size; "
                                     "change the setting or the entry", None))
    checked += sum(len(result.metrics) for result in entry.results)  # ranges, checked when read
    if checkpoint is not None:
        checked += 1
        if checkpoint.problem:
            findings.append(Finding(
                kind="checkpoint", variant=entry.name, field="checkpoint", message=checkpoint.problem,
                location=Location(checkpoint.display), label=entry.label, template=template.path))
    return findings, checked


# -- checkpoints -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckpointFacts:
    """A real checkpoint file for one variant: its size, and why it does not fit, if it doesn't."""

    path: Path
    display: str
    size: int
    problem: str | None


def checkpoint_files(folder: Path, variants: Sequence[str]) -> dict[str, Path]:
    """Each variant's checkpoint in ``folder``: ``<variant>*.pth`` or ``<variant>*.safetensors``.

    A file belongs to the longest variant name it starts with (``dla60x_c-b870c45c.pth`` is
    dla60x_c's, not dla60's). Two files for one variant are refused: which size is meant?
    """
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix not in CHECKPOINT_SUFFIXES:
            continue
        owners = [v for v in variants if path.name.startswith(v)]
        if owners:
            found.setdefault(max(owners, key=len), []).append(path)
    for variant, paths in found.items():
        if len(paths) > 1:
            raise InputError(Location(folder), "--checkpoint-dir",
                             f"{len(paths)} checkpoints for {variant}: {', '.join(p.name for p in paths)}; keep one")
    return {variant: paths[0] for variant, paths in found.items()}


def strict_load_problem(variant: str, state_dict: Mapping[str, Any]) -> str | None:
    """Why ``state_dict`` does not load with ``strict=True`` into our ``variant``, or ``None``.

    When it does not, the message names the zoo variant whose layout it has, if any: a
    checkpoint filed under the wrong name is the usual cause.
    """
    model = create_uninitialised(variant)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = "; ".join(lines[1:4]) or lines[0]
        others = matching_variants(state_dict)
        if others:
            names = " or ".join(others)
            return (f"does not load strictly into {variant}: it is a {names} checkpoint "
                    f"(its keys and shapes are {names}'s)")
        return f"does not load strictly into {variant} nor into any variant of the zoo: {detail[:400]}"
    return None


Layout = frozenset[tuple[str, tuple[int, ...]]]


@functools.lru_cache(maxsize=None)
def variant_layout(variant: str) -> Layout:
    """Keys and shapes of ``variant``'s state dict, from a model built on the meta device
    (no memory for weights, no initialisation: about 50 ms a variant)."""
    with torch.device("meta"):
        model = _build(get_config(variant), 1000, 3, 0.0)
    return frozenset((key, tuple(value.shape)) for key, value in model.state_dict().items())


def matching_variants(state_dict: Mapping[str, Any]) -> list[str]:
    """The zoo variants whose state-dict keys and shapes equal ``state_dict``'s."""
    try:
        layout = frozenset((str(key), tuple(value.shape)) for key, value in state_dict.items())
    except (AttributeError, TypeError):
        return []
    return [name for name in list_models() if variant_layout(name) == layout]


def inspect_checkpoint(variant: str, path: Path, root: Path) -> CheckpointFacts:
    """Load ``path`` safely and check it against the model; unreadable files are input errors."""
    display = _relative(path, root) if not path.is_symlink() else _relative(path.parent, root) + "/" + path.name
    target = path.resolve()
    if target != root and root not in target.parents:  # a link must not lead outside
        raise InputError(Location(display), "checkpoint",
                         f"is a link to {target}, outside the project folder {root}; refused")
    try:
        state_dict = load_state_dict(path)
    except CheckpointError as exc:
        message = str(exc).removeprefix(f"{path}: ")
        raise InputError(Location(display), "checkpoint", message) from None
    return CheckpointFacts(path, display, path.stat().st_size, strict_load_problem(variant, state_dict))


def inspect_checkpoints(settings: Settings, folder: Path, variants: Sequence[str]) -> dict[str, CheckpointFacts]:
    """Every checkpoint in ``folder`` for ``variants``, loaded safely and checked against its model."""
    files = checkpoint_files(folder, list_models())
    return {v: inspect_checkpoint(v, files[v], settings.root) for v in variants if v in files}


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


# -- generated pages -------------------------------------------------------------------------

def _files_under(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    base = folder.resolve()
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and (path.resolve() == base or base in path.resolve().parents):
            files[path.relative_to(folder).as_posix()] = path
    return files


def has_pages(docs_dir: Path) -> bool:
    """Whether any generated page exists yet (before the first build there is nothing to check)."""
    return bool(_files_under(docs_dir))


def _page_diff(name: str, old: bytes, new: bytes) -> tuple[str, ...]:
    try:
        old_text, new_text = old.decode("utf-8"), new.decode("utf-8")
    except UnicodeDecodeError:
        return (f"binary file differs: {len(old)} bytes committed, {len(new)} bytes rendered",)
    lines = difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), f"a/{name}", f"b/{name}", lineterm="", n=1)
    return tuple(line for _, line in zip(range(DIFF_LINES), lines))


def check_pages(docs_dir: Path, rendered: Mapping[str, bytes], display: str | None = None) -> list[Finding]:
    """Stale, missing and extra generated files under ``docs_dir``.

    ``rendered`` maps each generated file's relative POSIX path to the bytes a build would
    write now. ``docs/`` is wholly generated (a build replaces it as a unit), so any other
    file there is an extra one. Nothing is reported while no page has been generated yet.
    """
    on_disk = _files_under(docs_dir)
    if not on_disk:
        return []
    shown = display or docs_dir.as_posix()
    findings = []
    for name in sorted(set(on_disk) | set(rendered)):
        where = Location(f"{shown}/{name}")
        if name not in on_disk:
            findings.append(Finding("missing-page", None, name, "generated page is missing; rebuild the pages",
                                    where, diff=_page_diff(name, b"", rendered[name])))
        elif name not in rendered:
            findings.append(Finding("extra-page", None, name,
                                    "file is no longer generated; rebuild the pages (which removes it)", where))
        else:
            old = on_disk[name].read_bytes()
            if old != rendered[name]:
                findings.append(Finding("stale-page", None, name, "committed page is stale; rebuild the pages",
                                        where, diff=_page_diff(name, old, rendered[name])))
    return findings


# -- the whole check -------------------------------------------------------------------------

def verify_templates(
    settings: Settings,
    templates: Sequence[Template],
    measurements: Mapping[str, Measurement],
    checkpoint_dir: Path | None = None,
    render_pages: RenderPages | None = None,
    expected: Sequence[str] | None = None,
    checkpoints: Mapping[str, CheckpointFacts] | None = None,
) -> VerifyReport:
    """Every finding for ``templates`` against ``measurements`` (one per documented variant).

    ``expected`` is the set of variants the templates together must document (default:
    the whole zoo). ``render_pages`` renders the generated pages in memory; the page check
    is skipped without it or while ``settings.docs_dir`` holds no generated page yet.
    ``checkpoints`` are the files of ``checkpoint_dir`` already inspected (see
    :func:`inspect_checkpoints`), so that a command can refuse a bad one before measuring.
    """
    known = list(expected) if expected is not None else list_models()
    report = VerifyReport(templates=[t.display for t in templates])
    zoo = set(list_models())
    for mismatch in check_zoo(templates, known):
        if mismatch.kind == "unknown-variant" and mismatch.name in zoo:
            continue  # in the zoo, only outside ``expected``: still verified below
        report.findings.append(Finding(mismatch.kind, mismatch.name, mismatch.field, mismatch.message,
                                       mismatch.location, label=mismatch.label))
    report.checked += len(known)
    documented = [e.name for t in templates for e in t.index.models if e.name in zoo]
    if checkpoints is None:
        checkpoints = inspect_checkpoints(settings, checkpoint_dir, documented) if checkpoint_dir is not None else {}
    for template in templates:
        for entry in template.index.models:
            if entry.name not in zoo:
                continue
            report.models += 1
            facts = checkpoints.get(entry.name)
            findings, checked = check_entry(template, entry, measurements[entry.name], settings, facts)
            report.findings.extend(findings)
            report.checked += checked
    order = {t.display: i for i, t in enumerate(templates)}
    report.findings.sort(key=lambda f: (order.get(str(f.location.path), 0), f.location.line, f.location.column))
    if checkpoint_dir is not None:
        unused = sorted(set(checkpoint_files(checkpoint_dir, list_models())) - set(documented))
        if unused:
            report.notes.append(f"checkpoints not used (no entry): {', '.join(unused)}")
    _check_pages(settings, render_pages, report)
    return report


def _check_pages(settings: Settings, render_pages: RenderPages | None, report: VerifyReport) -> None:
    docs = _relative(settings.docs_dir, settings.root)
    if not has_pages(settings.docs_dir):
        report.notes.append(f"pages not checked: no generated pages under {docs}/ yet")
    elif render_pages is None:
        report.notes.append("pages not checked: no page renderer available")
    else:
        pages = check_pages(settings.docs_dir, render_pages(), docs)
        report.findings.extend(pages)
        report.checked += 1


def entries_to_measure(templates: Sequence[Template]) -> list[str]:
    """The zoo variants the templates document, in the zoo's order, each once."""
    documented = {e.name for t in templates for e in t.index.models}
    return [name for name in list_models() if name in documented]


# -- what the command runs -------------------------------------------------------------------

def resolve_paths(settings: Settings, given: Sequence[Path], option: str = "--template") -> list[Path]:
    """``given`` (relative to the working folder) or the configured templates, all inside the project."""
    if not given:
        return list(dict.fromkeys(settings.templates))
    return list(dict.fromkeys(inside(settings.root, str(Path.cwd() / p), Location(str(p)), option) for p in given))


def resolve_folder(settings: Settings, folder: Path | None, option: str) -> Path | None:
    return None if folder is None else inside(settings.root, str(Path.cwd() / folder), Location(str(folder)), option)
