"""What a folder holds: its files (links that lead out are not followed), and the entries a
folder of generated files must not hold (links, FIFOs, sockets, devices)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dla_docs.fs.paths import contained


def files_under(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by relative POSIX path, sorted; folders that are links are
    not entered, and a file that is a link counts only when it leads to a file inside ``folder``."""
    if not folder.is_dir():
        return {}
    files = {}
    for top, dirs, names in os.walk(folder):
        dirs.sort()
        for name in names:
            path = Path(top, name)
            if path.is_file() and (not path.is_symlink() or contained(path, folder)):
                files[path.relative_to(folder).as_posix()] = path
    return dict(sorted(files.items()))


def kind_of(mode: int) -> str:
    """What a file-system entry that is not a regular file is, in words (from its ``st_mode``)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def irregular_entries(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` that is neither a regular file nor a real folder, by relative
    POSIX path, with what it is: a symbolic link (to a file or a folder, inside or outside,
    with its target), a FIFO, a socket or a device. Only ``lstat`` is asked: nothing is
    opened or followed. A folder of generated files holds none of these, and a site builder
    would copy what a link leads to (``/etc/passwd``) or block on a FIFO."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for top, dirs, names in os.walk(folder):  # links to folders are listed, never entered
        dirs.sort()
        for name in sorted([*dirs, *names]):
            path = Path(top, name)
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                try:
                    target = os.readlink(path)
                except OSError:
                    target = "?"
                found[path.relative_to(folder).as_posix()] = f"a symbolic link (to {target})"
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found[path.relative_to(folder).as_posix()] = kind_of(mode)
    return dict(sorted(found.items()))
