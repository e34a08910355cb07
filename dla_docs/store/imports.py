"""What code a process loaded: each ``dla_docs`` module's SHA-256, taken from the very bytes
that were compiled, at the moment they were imported.

The measuring server loads this file by its path before it imports anything of the package
(:func:`record`), so every ``dla_docs`` module it imports afterwards is compiled from bytes
read once, hashed and kept here: a file edited on disk while the server starts, or while it
measures, cannot lend its new digest to what the old code measured
(:func:`dla_docs.store.seal.loaded_code`). The package's bytecode caches are not used for the
modules recorded (the bytes compiled must be the bytes hashed); they are few and small.

This module imports nothing of ``dla_docs``: it must load first.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import sys
from pathlib import Path

#: the name this module is loaded under by the server, before the package exists
NAME = "_dla_docs_loaded_code"
PACKAGE = "dla_docs"

loaded: dict[str, str] = {}  # resolved source path -> SHA-256 of the bytes compiled


class _RecordingLoader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str):  # type: ignore[override]
        path = self.get_filename(fullname)
        data = self.get_data(path)
        loaded[str(Path(path).resolve())] = hashlib.sha256(data).hexdigest()
        return self.source_to_code(data, path)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != PACKAGE and not fullname.startswith(PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _RecordingLoader(spec.loader.name, spec.loader.path)
        return spec


def record() -> None:
    """From now on, record every ``dla_docs`` module this process imports (once per process)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    loaded[str(Path(__file__).resolve())] = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def recorded() -> dict[str, str] | None:
    """The digests recorded in this process, or ``None`` when nothing records (a plain command)."""
    recorder = sys.modules.get(NAME)
    return getattr(recorder, "loaded", None)
