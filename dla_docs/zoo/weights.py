"""Load weights safely, and check them against a model before a single tensor is copied.

``load_state_dict`` reads a ``.pth``/``.pt`` with ``torch.load(weights_only=True)`` (a pickle
that asks for anything beyond tensors and plain containers is refused, its code never runs)
or a ``.safetensors`` file. ``check_against`` compares every key, shape and dtype with the
model's own state dict, so a file for another variant or another precision is refused with
one line naming the first tensor that does not fit, instead of a wall of PyTorch errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded safely, or does not belong to the model."""


_BOILERPLATE = ("Weights only load failed", "Please file an issue", "Check the documentation", "(1)", "(2)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_UNPICKLER = "WeightsUnpickler error:"


def refusal_reason(exc: BaseException) -> str:
    """The one informative sentence of a failed ``torch.load``, on one line.

    torch wraps the reason ("Unsupported global: GLOBAL posix.system ...") in paragraphs
    of advice, one of which suggests ``weights_only=False``; only the reason is kept.
    """
    text = _ANSI.sub("", str(exc)).strip()
    if _UNPICKLER in text:
        text = text.split(_UNPICKLER, 1)[1]
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    useful = [p for p in paragraphs if not p.startswith(_BOILERPLATE)]
    if not useful:
        return type(exc).__name__
    return useful[0].split(". ", 1)[0].rstrip(".")


class HeaderTooLarge(CheckpointError):
    """A safetensors header larger, or with more entries, than the model's layout allows."""


HeaderLimits = tuple[int, int]  # (entries, bytes)
_HEADER_SLACK = 8192  # __metadata__ and the header's padding


def header_limits(shapes: Mapping[str, tuple[int, ...]]) -> HeaderLimits:
    """The most entries and header bytes a safetensors file of a state dict with these keys and
    shapes needs: one entry per tensor, each at most ``2 * len(key) + 128`` bytes plus 16 a
    dimension (its JSON is about ``len(key) + 70``), and 8 KiB for metadata and padding."""
    size = _HEADER_SLACK + sum(2 * len(key) + 128 + 16 * len(shape) for key, shape in shapes.items())
    return len(shapes), size


def safetensors_header(path: Path, limits: HeaderLimits) -> dict[str, Any]:
    """The parsed header of a ``.safetensors`` file, refused *before* it is read whole when it
    is longer than ``limits`` allows, and before it is parsed when it holds more entries.

    The format stores the header's length in its first 8 bytes; a hostile file can claim
    tens of megabytes of millions of entries, which a parser would spend seconds and
    gigabytes on. The real weights' headers are a few tens of kilobytes.
    """
    import json

    entries, most = limits
    try:
        with open(path, "rb") as file:
            head = file.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{path}: not a readable safetensors file (shorter than its 8-byte header length)")
            length = int.from_bytes(head, "little")
            if length > most:
                raise HeaderTooLarge(f"{path}: its safetensors header claims {length:,} bytes, more than a checkpoint "
                                     f"of this model needs (at most {most:,}); refused unread")
            data = file.read(length)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) < length:
        raise CheckpointError(f"{path}: not a readable safetensors file (the header runs past the end of the file)")
    count = data.count(b'"data_offsets"')
    if count > entries:
        raise HeaderTooLarge(f"{path}: its safetensors header lists {count:,} tensors, more than this model has "
                             f"({entries:,}); refused unparsed")
    try:
        header = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file (header: {str(exc)[:200]})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a readable safetensors file (the header is not a JSON object)")
    return header


def load_state_dict(path: Path, limits: HeaderLimits | None = None) -> dict[str, torch.Tensor]:
    """Load a ``.pth``/``.pt`` (``weights_only=True``) or ``.safetensors`` file.

    A pickle that asks for anything beyond tensors and plain containers is refused with a
    :class:`CheckpointError`; its code never runs. With ``limits`` (:func:`header_limits` of
    the model), a safetensors header is bounded before it is parsed (:func:`safetensors_header`).
    """
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise CheckpointError(f"{path}: reading .safetensors needs the 'safetensors' package") from exc
        if limits is not None:
            safetensors_header(path, limits)
        try:
            loaded = load_file(str(path))
        except Exception as exc:
            raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc
        return check_state_dict(loaded, path)
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: refused: the file is empty")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"{path}: refused by torch.load(weights_only=True): {refusal_reason(exc)}; "
            "only tensors and plain containers are loaded, nothing in the file was run"
        ) from exc
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    return check_state_dict(obj, path)


def check_state_dict(obj: object, path: Path) -> dict[str, torch.Tensor]:
    """``obj`` if it is a state dict a model could hold: string keys, dense tensors with data.

    Anything else is a :class:`CheckpointError` naming the first offending key, so that no
    later step (sizing, comparing, ``load_state_dict``) ever sees it: a key that is not a
    string (int, bytes, tuple, None, float: a traceback otherwise), a value that is not a
    tensor, a tensor on the ``meta`` device (shapes without data: saved from a model that was
    never materialised), or a sparse or quantised one.
    """
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: does not hold a state dict of tensors (it holds a {type(obj).__name__})")
    for key, value in obj.items():
        if not isinstance(key, str):
            raise CheckpointError(f"{path}: state-dict keys must be strings; key {_cut(repr(key))} "
                                  f"({type(key).__name__}) is not")
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{path}: does not hold a state dict of tensors ({_cut(key)!r} is a "
                                  f"{type(value).__name__})")
    meta = [key for key, value in obj.items() if value.is_meta]
    if meta:
        raise CheckpointError(f"{path}: holds no weights: {len(meta)} of {len(obj)} tensors are on the 'meta' "
                              f"device (shapes only, e.g. {_cut(meta[0])!r}); save the checkpoint from a "
                              "model with real weights")
    odd = [(key, value.layout) for key, value in obj.items() if value.layout != torch.strided or value.is_quantized]
    if odd:
        key, kind = odd[0]
        raise CheckpointError(f"{path}: tensor {_cut(key)!r} is not a dense tensor ({kind}); "
                              "a model's state dict holds dense tensors only")
    return obj


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shape(shape: Any) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def check_against(expected: Mapping[str, torch.Tensor], found: Mapping[str, tuple[tuple[int, ...], str]],
                  where: str) -> None:
    """Refuse ``found`` (key -> (shape, dtype name)) unless it is exactly ``expected``'s layout.

    The message is one line: the file, the first offending key, what it holds and what the
    model needs; missing and unexpected keys are counted.
    """
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (first: {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (first: {unexpected[0]})")
        raise CheckpointError(f"{where}: keys do not match the model: {'; '.join(parts)}")
    for key, tensor in expected.items():
        shape, dtype = found[key]
        want_dtype = str(tensor.dtype).removeprefix("torch.")
        if tuple(shape) != tuple(tensor.shape):
            raise CheckpointError(f"{where}: {key}: shape {_shape(shape)}, the model needs {_shape(tensor.shape)}")
        if dtype != want_dtype:
            raise CheckpointError(f"{where}: {key}: dtype {dtype}, the model needs {want_dtype}")


_SAFETENSORS_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
                       "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool"}


def layout(path: Path, limits: HeaderLimits | None = None) -> dict[str, tuple[tuple[int, ...], str]]:
    """Key -> (shape, dtype) of a ``.safetensors`` file, read from its header alone (bounded
    by ``limits`` first, when given: see :func:`safetensors_header`)."""
    from safetensors import safe_open

    if limits is not None:
        safetensors_header(path, limits)
    try:
        with safe_open(str(path), framework="pt") as file:
            result = {}
            for key in file.keys():
                piece = file.get_slice(key)
                dtype = piece.get_dtype()
                result[key] = (tuple(piece.get_shape()), _SAFETENSORS_DTYPES.get(dtype, dtype.lower()))
            return result
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc


def tensor_layout(state_dict: Mapping[str, torch.Tensor]) -> dict[str, tuple[tuple[int, ...], str]]:
    return {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in state_dict.items()}

