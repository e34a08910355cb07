"""Bounded reads: a regular file's bytes up to a size cap, and its UTF-8 text with the line and
column of a bad byte; each failure is a one-line :class:`~dla_docs.errors.InputError`."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from dla_docs.errors import InputError, Location


def read_bounded(path: Path, limit: int, display: str, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refusing FIFOs, devices and files over ``limit``.

    A FIFO or a device would block or never end, so the type is checked before opening.
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise InputError(Location(display), what, "not a regular file")
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise InputError(Location(display), what, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise InputError(Location(display), what, f"larger than {size}; refused")
    return data


def decode_utf8(data: bytes, display: str, field: str | Callable[[str, int], str] = "encoding") -> str:
    """``data`` as UTF-8 text; a bad byte is an :class:`InputError` at its line and column.

    ``field`` names the field in the message, or is called with the text (bad bytes
    replaced) and the line to name it (a TOML key, say).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        name = field if isinstance(field, str) else field(data.decode("utf-8", "replace"), line)
        raise InputError(Location(display, line, column), name,
                         f"not UTF-8 text ({exc.reason}: byte 0x{data[exc.start]:02x})") from None
