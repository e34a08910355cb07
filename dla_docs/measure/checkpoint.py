"""Checkpoint size and safe checkpoint loading.

The size a reader downloads is the size of the file ``torch.save(model.state_dict(), f)``
writes. We measure it by streaming the save into a byte counter: no temporary file and no
second copy of the weights in memory. Loading never unpickles arbitrary objects.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import torch


class ByteCounter(io.RawIOBase):
    """A write-only, seekable sink that keeps only the size the file would have.

    It must be seekable: torch's zip writer lays out a seekable file (what a real checkpoint
    is) differently from a stream, so a plain counting stream would measure another size.
    """

    def __init__(self) -> None:
        self.position = 0
        self.count = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.count}[whence]
        self.position = base + offset
        return self.position

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        n = memoryview(data).nbytes
        self.position += n
        self.count = max(self.count, self.position)
        return n


def checkpoint_bytes(state_dict: Mapping[str, torch.Tensor]) -> int:
    """Size in bytes of ``torch.save(state_dict, f)`` for an open binary file ``f``.

    Pass ``model.state_dict()`` itself, not a copy: its ``_metadata`` is saved too. (Saving
    to a *path* names the archive after the file, which changes the size by a few bytes per
    tensor; an open file always names it ``archive``.)
    """
    sink = ByteCounter()
    with _crc32_off():  # the checksum fills fixed-size fields: same size, half the time
        torch.save(state_dict, sink)
    return sink.count


@contextlib.contextmanager
def _crc32_off() -> Iterator[None]:
    from torch.serialization import get_crc32_options, set_crc32_options

    previous = get_crc32_options()
    set_crc32_options(False)
    try:
        yield
    finally:
        set_crc32_options(previous)


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


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load a ``.pth``/``.pt`` (``weights_only=True``) or ``.safetensors`` file.

    A pickle that asks for anything beyond tensors and plain containers is refused with a
    :class:`CheckpointError`; its code never runs.
    """
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise CheckpointError(f"{path}: reading .safetensors needs the 'safetensors' package") from exc
        try:
            return load_file(str(path))
        except Exception as exc:
            raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc
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
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: does not hold a state dict of tensors")
    return obj
