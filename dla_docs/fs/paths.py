"""Where a path is: inside a folder once links are resolved, and how messages name it.

- :func:`contained`: does a path stay inside a folder once links are resolved;
- :func:`inside`: a setting's or option's path resolved inside the project, or a one-line error;
- :func:`shown`: how messages name a file (relative to the project when inside it).
"""

from __future__ import annotations

import os
from pathlib import Path

from dla_docs.errors import InputError, Location


def contained(path: Path, folder: Path, resolved: bool = False) -> bool:
    """Whether ``path`` is ``folder`` or lies under it once links are resolved (with
    ``resolved``, both are already: each path is resolved once, by the caller)."""
    target, base = (Path(path), Path(folder)) if resolved else (Path(path).resolve(), Path(folder).resolve())
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
