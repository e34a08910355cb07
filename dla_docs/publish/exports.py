"""Writing exports (CITATION.cff, Hugging Face model cards) where the user names.

Unlike ``docs/`` and ``site/``, an export's target is named on the command line (``-o``), so
it may lie outside the project. Each file is replaced atomically (a reader sees the old file
or the new one); nothing else in the target folder is touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dla_docs.errors import OutputError
from dla_docs.fs import write_atomic
from dla_docs.publish.site import relative_output_path


def write_file(target: Path, data: bytes) -> None:
    """Write one file atomically, or fail with one line naming it."""
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; name a file to write")
    try:
        if not target.parent.is_dir():
            raise OutputError(f"{target}: its folder {target.parent} does not exist")
        write_atomic(target, data)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({exc.strerror or exc})") from None


def write_files(folder: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write ``files`` (relative POSIX path -> bytes) under ``folder``, creating folders as needed.

    Every file is rendered before this is called, so a rendering error writes nothing.
    """
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: is not a folder")
    targets = {name: folder.joinpath(*relative_output_path(name).parts) for name in files}
    written = []
    for name in sorted(files):
        target = targets[name]
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{target.parent}: cannot create the folder ({exc.strerror or exc})") from None
        write_file(target, files[name])
        written.append(target)
    return written
