"""Writing exports (CITATION.cff, Hugging Face model cards, a graph) where the user names.

Unlike ``docs/`` and ``site/``, an export's target is named on the command line (``-o``), so
it may lie outside the project: that is the user's choice. What it may never be is one of
the paths the project manages (:func:`managed_paths`: ``.git``, ``templates/``, the generated
folders, the cache, ``pyproject.toml``, ``mkdocs.yml``, the configured data files), or lie
inside one of them, once links are resolved: ``export hf -o .git`` or ``graph -o
pyproject.toml`` is refused with one line, before anything is written. Each file is replaced
atomically (a reader sees the old file or the new one); nothing else in the target folder is
touched; a file its owner made read-only is refused, as a plain write would be.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from dla_docs.config import Settings
from dla_docs.errors import OutputError
from dla_docs.fs import write_atomic
from dla_docs.publish.journal import relative_output_path


def managed_paths(settings: Settings, allow: tuple[Path, ...] = ()) -> dict[str, Path]:
    """The project's own paths an export must not write to or into, by what they are (resolved).

    ``allow`` are paths the command itself owns (``export cff`` writes the configured
    ``CITATION.cff``): they are let through as that file only, never as another managed path
    that resolves to the same file (a ``CITATION.cff`` linked to ``pyproject.toml``).
    """
    root = settings.root
    named: dict[str, Path | None] = {
        "the project's .git folder": root / ".git",
        "the project's templates folder": root / "templates",
        "the project's docs-dir (generated pages)": settings.docs_dir,
        "the project's site-dir (the built site)": settings.site_dir,
        "the project's measurement cache": settings.cache_dir,
        "the project's pyproject.toml": root / "pyproject.toml",
        "the project's mkdocs.yml": root / "mkdocs.yml",
        "the configured results file": settings.results,
        "the configured benchmarks file": settings.benchmarks,
        "the configured CITATION.cff": settings.citation,
    }
    named.update({f"the configured template {t.relative_to(root).as_posix()}": t for t in settings.templates})
    paths = {what: Path(os.path.realpath(p)) for what, p in named.items() if p is not None}
    allowed = {Path(os.path.realpath(p)) for p in allow}
    return {what: p for what, p in paths.items() if p not in allowed or what != "the configured CITATION.cff"}


def refuse_managed(target: Path, settings: Settings | None, allow: tuple[Path, ...] = ()) -> None:
    """Refuse ``target`` (a file or folder to write) when it is, or lies inside, a managed path."""
    if settings is None:
        return
    resolved = Path(os.path.realpath(target))
    for what, path in managed_paths(settings, allow).items():
        if resolved == path or path in resolved.parents:
            inside = "" if resolved == path else f" (it lies inside {path})"
            raise OutputError(f"{target}: refusing to write to {what}{inside}; name a path outside it")


def write_file(target: Path, data: bytes, settings: Settings | None = None, allow: tuple[Path, ...] = ()) -> None:
    """Write one file atomically, or fail with one line naming it; with ``settings``, a managed
    path of that project is refused first (see :func:`refuse_managed`)."""
    refuse_managed(target, settings, allow)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; name a file to write")
    try:
        mode = target.stat().st_mode
    except OSError:
        mode = stat.S_IWUSR  # a new file
    if not mode & stat.S_IWUSR:  # an atomic replace would ignore the mode: refuse as a plain write would
        raise OutputError(f"{target}: is read-only (mode {stat.S_IMODE(mode):04o}); make it writable to replace it")
    try:
        if not target.parent.is_dir():
            raise OutputError(f"{target}: cannot write: its folder {target.parent} does not exist")
        write_atomic(target, data)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None


def write_files(folder: Path, files: Mapping[str, bytes], settings: Settings | None = None) -> list[Path]:
    """Write ``files`` (relative POSIX path -> bytes) under ``folder``, creating folders as needed.

    Every file is rendered before this is called, so a rendering error writes nothing; with
    ``settings``, the folder and every target (a link inside it included) are checked against
    the project's managed paths before the first file is written.
    """
    refuse_managed(folder, settings)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: is not a folder")
    targets = {name: folder.joinpath(*relative_output_path(name).parts) for name in files}
    for target in targets.values():
        refuse_managed(target, settings)
    written = []
    for name in sorted(files):
        target = targets[name]
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{target.parent}: cannot create the folder ({exc.strerror or exc})") from None
        refuse_managed(target, settings)  # a folder made meanwhile cannot lead elsewhere either
        write_file(target, files[name])
        written.append(target)
    return written
