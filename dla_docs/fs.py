"""The project's file-system rules, one helper per idea.

- :func:`contained` / :func:`inside`: does a path stay inside a folder once links are resolved;
- :func:`shown`: how messages name a file (relative to the project when inside it);
- :func:`read_bounded` and :func:`decode_utf8`: read a regular file up to a size cap, decode it
  with the line and column of a bad byte;
- :func:`write_atomic`: replace a file in one step (readers see the old or the new bytes).

Torch-free and import-light: every stage uses these, and they use no stage.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from dla_docs.errors import InputError, Location


def contained(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it once links are resolved."""
    target, base = Path(path).resolve(), Path(folder).resolve()
    return target == base or base in target.parents


def inside(root: Path, relative: str, where: Location, field: str) -> Path:
    """``root / relative``, refusing anything that would resolve outside ``root``.

    The check is on the resolved path, so a symbolic link that leads out of the project
    is refused as well as ``..`` and absolute paths; the message says which it was.
    """
    path = (root / relative).resolve()
    if not contained(path, root):
        lexical = Path(os.path.normpath(root / relative))
        if lexical == root or root in lexical.parents:
            raise InputError(where, field, f"path {relative!r} is a link to {path}, outside the project folder {root}")
        raise InputError(where, field, f"path {relative!r} points outside the project folder {root}")
    return path


def shown(path: Path | str, root: Path | None, resolve: bool = True) -> str:
    """How messages name a file: relative to ``root`` when inside it, else as given.

    With ``resolve=False`` a link is named as written, not by its target.
    """
    if root is None:
        return str(path)
    try:
        if resolve:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        return Path(path).relative_to(root).as_posix()
    except (ValueError, OSError):
        return str(path)


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


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` in one step: readers see the old file or the new one.

    The new file keeps the old one's permissions, or gets ``mode``, or for a new file the
    mode a plain ``open`` would give it (0o666 less the umask); the temporary file lives
    beside the target and is removed if anything fails.
    """
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0o22)
            os.umask(umask)
            mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
