"""Real checkpoint files: find each variant's, load it safely, check it against the model."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dla_docs.config import Settings
from dla_docs.errors import InputError, Location
from dla_docs.fs import contained, shown
from dla_docs.zoo.variants import get_config, list_models

CHECKPOINT_SUFFIXES = (".pth", ".safetensors")

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
    from dla_docs.zoo.factory import create_uninitialised

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
    import torch

    from dla_docs.zoo.factory import build

    with torch.device("meta"):
        model = build(get_config(variant), 1000, 3, 0.0)
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
    display = shown(path, root) if not path.is_symlink() else shown(path.parent, root) + "/" + path.name
    target = path.resolve()
    if not contained(target, root):  # a link must not lead outside
        raise InputError(Location(display), "checkpoint",
                         f"is a link to {target}, outside the project folder {root}; refused")
    from dla_docs.measure.checkpoint import CheckpointError, load_state_dict

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

