"""What code a process loaded: each ``dla_docs`` module's SHA-256, taken from the very bytes
that were compiled, at the moment they were imported.

The measuring server loads this file by its path before it imports anything of the package
(:func:`record`), so every ``dla_docs`` module it imports afterwards is compiled from bytes
read once, hashed and kept here: a file edited on disk while the server starts, or while it
measures, cannot lend its new digest to what the old code measured
(:func:`dla_docs.store.seal.loaded_code`). The bytecode caches used for them are keyed by
those very bytes (hash-based ``.pyc`` files, PEP 552), so nothing else can stand in.

This module imports nothing of ``dla_docs``: it must load first.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import marshal
import os
import sys
from pathlib import Path

#: the name this module is loaded under by the server, before the package exists
NAME = "_dla_docs_loaded_code"
PACKAGE = "dla_docs"

loaded: dict[str, str] = {}  # resolved source path -> SHA-256 of the bytes compiled


_FLAGS = (0b11).to_bytes(4, "little")  # PEP 552: a hash-based pyc, checked against its source


class _RecordingLoader(importlib.machinery.SourceFileLoader):
    """Compiles the bytes it hashed. Its bytecode cache is keyed by those bytes too: a
    hash-based ``.pyc`` (PEP 552) whose source hash matches them is used, else the module is
    compiled from them and such a ``.pyc`` written (plain imports validate it by hash as well)."""

    def get_code(self, fullname: str):  # type: ignore[override]
        path = self.get_filename(fullname)
        data = self.get_data(path)
        loaded[str(Path(path).resolve())] = hashlib.sha256(data).hexdigest()
        header = importlib.util.MAGIC_NUMBER + _FLAGS + importlib.util.source_hash(data)
        try:
            cache = importlib.util.cache_from_source(path)
            cached = self.get_data(cache)
            if cached[:16] == header:
                return marshal.loads(cached[16:])
        except (OSError, ValueError, EOFError, TypeError, NotImplementedError):
            cache = None
        code = self.source_to_code(data, path)
        if cache is not None and not sys.dont_write_bytecode:
            try:
                temporary = f"{cache}.{os.getpid()}.tmp"
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                with open(temporary, "wb") as f:
                    f.write(header + marshal.dumps(code))
                os.replace(temporary, cache)
            except OSError:
                pass
        return code


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
