"""Checkpoint size and safe checkpoint loading.

The size a reader downloads is the size of the file ``torch.save(model.state_dict(), f)``
writes. We measure it by streaming the save into a byte counter: no temporary file and no
second copy of the weights in memory. Loading (:mod:`dla_docs.zoo.weights`) never unpickles
arbitrary objects.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping

import torch

# Safe loading lives with the model zoo (``create_model(checkpoint_path=...)`` uses it too).
from dla_docs.zoo.weights import CheckpointError, load_state_dict, refusal_reason  # noqa: F401


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
