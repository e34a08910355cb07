"""Real checkpoint files: find each variant's, load it safely, check it against the model."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

from dla_docs.config import Settings
from dla_docs.errors import InputError, Location
from dla_docs.fs import contained, kind_of, shown
from dla_docs.zoo.variants import get_config, list_models

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".safetensors")


@dataclass(frozen=True)
class CheckpointFacts:
    """A real checkpoint file for one variant: its size, and why it does not fit, if it doesn't."""

    path: Path
    display: str
    size: int
    problem: str | None


@dataclass(frozen=True)
class CheckpointScan:
    """What a checkpoint folder holds: each variant's file, and why every other entry was skipped."""

    folder: Path
    files: dict[str, Path]
    skipped: tuple[tuple[str, str], ...]  # (entry name, why)


def _skip_reason(entry: os.DirEntry, variants: Sequence[str]) -> str | None:
    """Why ``entry`` is not a checkpoint for any of ``variants``, or ``None`` when it is one.

    Only ``stat`` is asked (never ``open``), so a FIFO or a device cannot block the scan.
    """
    try:
        mode = os.stat(entry.path).st_mode  # follows a link; a loop or a dangling link fails here
    except OSError as exc:
        what = "a symbolic link that cannot be followed" if entry.is_symlink() else "cannot be read"
        return f"{what} ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        return kind_of(mode)
    name = entry.name
    suffix = Path(name).suffix
    if suffix not in CHECKPOINT_SUFFIXES:
        if suffix.lower() in CHECKPOINT_SUFFIXES:
            return f"suffix {suffix!r} is not lowercase ({', '.join(CHECKPOINT_SUFFIXES)} are read)"
        return f"suffix {suffix or '(none)'!r} is not one of {', '.join(CHECKPOINT_SUFFIXES)}"
    if not any(name.startswith(v) for v in variants):
        near = [v for v in variants if name.lower().startswith(v)]
        if near:
            best = max(near, key=len)
            return f"does not start with a variant name; did you mean {best!r}? (names are case-sensitive)"
        return "does not start with a variant name (<variant>*.pth, e.g. dla34-ba72cf86.pth)"
    return None


def scan_checkpoints(folder: Path, variants: Sequence[str]) -> CheckpointScan:
    """Each variant's checkpoint in ``folder``: ``<variant>*.pth``, ``*.pt`` or ``*.safetensors``.

    A file belongs to the longest variant name it starts with (``dla60x_c-b870c45c.pth`` is
    dla60x_c's, not dla60's). Two files for one variant are refused: which size is meant?
    Every other entry is listed with the reason it was skipped (suffix, case, not a regular
    file, a link that loops or dangles), and a folder without one usable file is refused.
    """
    found: dict[str, list[Path]] = {}
    skipped: list[tuple[str, str]] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise InputError(Location(folder), "--checkpoint-dir", f"cannot list the folder: {exc.strerror or exc}") from None
    for entry in entries:
        reason = _skip_reason(entry, variants)
        if reason:
            skipped.append((entry.name, reason))
            continue
        owner = max((v for v in variants if entry.name.startswith(v)), key=len)
        found.setdefault(owner, []).append(Path(entry.path))
    for variant, paths in found.items():
        if len(paths) > 1:
            raise InputError(Location(folder), "--checkpoint-dir",
                             f"{len(paths)} checkpoints for {variant}: {', '.join(p.name for p in paths)}; keep one")
    if not found:
        why = "; ".join(f"{name}: {reason}" for name, reason in skipped[:5]) or "the folder is empty"
        more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        raise InputError(Location(folder), "--checkpoint-dir",
                         f"no usable checkpoint (<variant>*.pth, *.pt or *.safetensors): {why}{more}")
    return CheckpointScan(folder, {variant: paths[0] for variant, paths in found.items()}, tuple(skipped))


def checkpoint_notes(scan: CheckpointScan, documented: Sequence[str], root: Path) -> list[str]:
    """What a reader must know about a checkpoint folder: variants without a file, files skipped."""
    notes = []
    folder = shown(scan.folder, root)
    without = [v for v in documented if v not in scan.files]
    if without:
        notes.append(f"no checkpoint in {folder}/ for {', '.join(without)}: their File Size is checked "
                     "against the measurement, within the tolerance")
    for name, reason in scan.skipped:
        notes.append(f"skipped {folder}/{name}: {reason}")
    unused = sorted(set(scan.files) - set(documented))
    if unused:
        notes.append(f"checkpoints not used (no entry): {', '.join(unused)}")
    return notes


def strict_load_problem(variant: str, state_dict: Mapping[str, Any]) -> str | None:
    """Why ``state_dict`` is not exactly ``variant``'s, or ``None``.

    Every tensor's key, shape and dtype are compared with the model's before anything is
    loaded: ``load_state_dict`` casts on copy, so an fp16, bf16, fp64, integer, bool or
    complex checkpoint would "load strictly" and its size (half or double the model's) would
    pass for the model's. When the keys and shapes are another variant's, the message names
    it: a checkpoint filed under the wrong name is the usual cause. Only a state dict that
    matches in every tensor is then loaded strictly into the model, as a last check.
    """
    expected = variant_tensors(variant)
    if _shapes(state_dict) != {k: shape for k, (shape, _) in expected.items()}:
        others = matching_variants(state_dict)
        if others:
            names = " or ".join(others)
            return (f"does not load strictly into {variant}: it is a {names} checkpoint "
                    f"(its keys and shapes are {names}'s)")
        return f"does not load strictly into {variant} nor into any variant of the zoo: {_layout_detail(expected, state_dict)}"
    wrong = [(key, value.dtype, expected[key][1]) for key, value in state_dict.items() if value.dtype != expected[key][1]]
    if wrong:
        key, got, want = wrong[0]
        kinds = ", ".join(sorted({_dtype(d) for _, d, _ in wrong}))
        return (f"{len(wrong)} of {len(state_dict)} tensors are not stored in the model's dtype ({kinds}; e.g. "
                f"{key!r} is {_dtype(got)}, the model's is {_dtype(want)}): torch would cast them on loading, "
                "and the file's size is not the size of this model's checkpoint")
    from dla_docs.zoo.factory import create_uninitialised

    model = create_uninitialised(variant)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:  # pragma: no cover - keys, shapes and dtypes were all checked
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return f"does not load strictly into {variant}: {('; '.join(lines[1:4]) or lines[0])[:400]}"
    return None


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _shapes(state_dict: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in state_dict.items()}


def _layout_detail(expected: Mapping[str, tuple[tuple[int, ...], torch.dtype]], state_dict: Mapping[str, Any]) -> str:
    """The first differences in keys and shapes, on one line."""
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [(k, tuple(v.shape), expected[k][0]) for k, v in state_dict.items()
              if k in expected and tuple(v.shape) != expected[k][0]]
    parts = []
    if missing:
        parts.append(f"{len(missing)} keys missing (e.g. {missing[0]!r})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0][:80]!r})")
    if shapes:
        key, got, want = shapes[0]
        parts.append(f"{len(shapes)} shapes differ (e.g. {key!r} is {list(got)}, the model's {list(want)})")
    return "; ".join(parts)


Layout = frozenset[tuple[str, tuple[int, ...]]]


@functools.lru_cache(maxsize=None)
def variant_tensors(variant: str) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    """Shape and dtype of every tensor of ``variant``'s state dict, from a model built on the
    meta device (no memory for weights, no initialisation: about 50 ms a variant)."""
    import torch

    from dla_docs.zoo.factory import build

    with torch.device("meta"):
        model = build(get_config(variant), 1000, 3, 0.0)
    return {key: (tuple(value.shape), value.dtype) for key, value in model.state_dict().items()}


def variant_layout(variant: str) -> Layout:
    """Keys and shapes of ``variant``'s state dict."""
    return frozenset((key, shape) for key, (shape, _) in variant_tensors(variant).items())


def matching_variants(state_dict: Mapping[str, Any]) -> list[str]:
    """The zoo variants whose state-dict keys and shapes equal ``state_dict``'s."""
    try:
        layout = frozenset((key, tuple(value.shape)) for key, value in state_dict.items())
    except (AttributeError, TypeError):
        return []
    return [name for name in list_models() if variant_layout(name) == layout]


def inspect_checkpoint(variant: str, path: Path, root: Path) -> CheckpointFacts:
    """Load ``path`` safely and check it against the model; unreadable files are input errors."""
    display = shown(path, root) if not path.is_symlink() else shown(path.parent, root) + "/" + path.name
    target = path.resolve()
    if not contained(target, root):  # a link must not lead outside
        raise InputError(Location(display), "checkpoint",
                         f"is a link to {target}, outside the project folder {root}; refused")
    from dla_docs.zoo.weights import CheckpointError, HeaderTooLarge, header_limits, load_state_dict

    def limits(*names: str) -> tuple[int, int]:
        bounds = [header_limits({k: shape for k, (shape, _) in variant_tensors(n).items()}) for n in names]
        return max(b[0] for b in bounds), max(b[1] for b in bounds)

    try:
        try:  # a safetensors header is bounded by the variant's layout before it is parsed...
            state_dict = load_state_dict(path, limits(variant))
        except HeaderTooLarge:  # ...or, for another variant's file, by the largest in the zoo
            state_dict = load_state_dict(path, limits(*list_models()))
    except CheckpointError as exc:
        message = str(exc).removeprefix(f"{path}: ")
        raise InputError(Location(display), "checkpoint", message) from None
    return CheckpointFacts(path, display, path.stat().st_size, checkpoint_problem(variant, path, state_dict))


def checkpoint_problem(variant: str, path: Path, state_dict: Mapping[str, Any]) -> str | None:
    """Why the file at ``path`` is not ``variant``'s checkpoint, whose size File Size records:
    another layout or dtype (:func:`strict_load_problem`), tensors that share storage or are
    views, or a file that holds more than the state dict (:mod:`dla_docs.checks.checkpoint_size`)."""
    from dla_docs.checks.checkpoint_size import archive_problem, storage_problem

    problem = strict_load_problem(variant, state_dict)
    if problem is None and path.suffix != ".safetensors":  # safetensors stores each tensor whole, once
        problem = storage_problem(state_dict) or archive_problem(path, state_dict)
    return problem


@dataclass(frozen=True)
class Checkpoints:
    """A checkpoint folder as ``verify`` uses it: each documented variant's file, inspected, and
    what a reader must know about the rest of the folder."""

    files: dict[str, CheckpointFacts]
    notes: tuple[str, ...]


def inspect_checkpoints(settings: Settings, folder: Path, variants: Sequence[str]) -> Checkpoints:
    """Every checkpoint in ``folder`` for ``variants`` (the documented ones, in the zoo's order),
    loaded safely and checked against its model."""
    scan = scan_checkpoints(folder, list_models())
    files = scan.files
    if variants and not any(v in files for v in variants):
        others = ", ".join(p.name for p in files.values())
        raise InputError(Location(folder), "--checkpoint-dir",
                         f"no checkpoint for any variant the templates document ({', '.join(variants)}); "
                         f"it holds only {others}")
    return Checkpoints({v: inspect_checkpoint(v, files[v], settings.root) for v in variants if v in files},
                       tuple(checkpoint_notes(scan, variants, settings.root)))

