"""The store's shelves that know nothing of measuring: drawings, compiled templates, pages, the site stamp.

Each shelf is a typed view of one part of a :class:`~dla_docs.store.seal.SealedFolder`; the
measurements' shelf is :class:`dla_docs.measure.stored.MeasurementShelf` (it knows the
measurement records, so it lives with them: the store never imports the measuring code).
Whether a command reads the store at all is decided once, by :func:`open_store` (CI writes it
but never reads it).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from dla_docs.store.seal import SealedFolder


class _TextShelf:
    """Sealed UTF-8 text entries by digest, as ``<where>/<digest><suffix>``."""

    where = ""
    suffix = ""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    def get(self, digest: str) -> str | None:
        return self.folder.read_text(f"{self.where}/{digest}{self.suffix}", digest)

    def put(self, digest: str, text: str) -> None:
        self.folder.write_text(f"{self.where}/{digest}{self.suffix}", digest, text)


class DrawingShelf(_TextShelf):
    """Drawn SVGs by digest (see :mod:`dla_docs.render.drawing`)."""

    where, suffix = "svg", ".svg"


class PageShelf(_TextShelf):
    """Rendered pages by the digest of their inputs (see :mod:`dla_docs.render.page_cache`)."""

    where, suffix = "pages", ".md"


def put_pending(shelf: Any, pending: dict[str, Any]) -> None:
    """Store every entry of ``pending`` (digest -> entry) on ``shelf``, then forget them: called
    once a command succeeded. A read-only store only costs speed (the entries are made again)."""
    try:
        if shelf is not None:
            for digest, entry in pending.items():
                shelf.put(digest, entry)
    except OSError:
        pass
    pending.clear()


def _read_as(folder: SealedFolder, relative: str, name: str, kind: type) -> Any:
    """The JSON entry at ``relative`` when it is sealed and of type ``kind``; else ``None`` (a miss)."""
    found = folder.read(relative, name)
    return found[0] if found is not None and isinstance(found[0], kind) else None


class IndexShelf:
    """Parsed model-index blocks by the digest of their bytes and the code that parsed them (see
    :mod:`dla_docs.metadata.stored`, which knows the records)."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    def get(self, digest: str) -> dict | None:
        return _read_as(self.folder, f"index/{digest}.json", digest, dict)

    def put(self, digest: str, data: dict) -> None:
        self.folder.write(f"index/{digest}.json", digest, data)


class TemplateShelf:
    """Compiled page templates and their include lists (see :mod:`dla_docs.render.templating`)."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    def get_bytecode(self, name: str) -> bytes | None:
        encoded = _read_as(self.folder, f"jinja/{name}.json", name, str)
        try:
            return base64.b64decode(encoded, validate=True) if encoded is not None else None
        except ValueError:
            return None

    def put_bytecode(self, name: str, code: bytes) -> None:
        self.folder.write(f"jinja/{name}.json", name, base64.b64encode(code).decode("ascii"))

    def get_includes(self, name: str) -> list | None:
        return _read_as(self.folder, f"jinja-includes/{name}.json", name, list)

    def put_includes(self, name: str, includes: list) -> None:
        self.folder.write(f"jinja-includes/{name}.json", name, includes)


class SiteShelf:
    """The stamp of the last site build (see :mod:`dla_docs.publish.uptodate`)."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    def get(self) -> dict | None:
        return _read_as(self.folder, "site.json", "site", dict)

    def put(self, stamp: dict) -> None:
        self.folder.write("site.json", "site", stamp)


class Store:
    """The project's sealed store, one typed shelf per kind of entry."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder  # measurements: dla_docs.measure.stored.MeasurementShelf(folder)
        self.drawings = DrawingShelf(folder)
        self.templates = TemplateShelf(folder)
        self.indexes = IndexShelf(folder)
        self.pages = PageShelf(folder)
        self.site = SiteShelf(folder)


def in_ci() -> bool:
    """Whether we run under CI (the ``CI`` variable that CI services set)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def open_store(cache_dir: Path | None, no_cache: bool) -> Store | None:
    """The store to read and write, or ``None`` with ``--no-cache`` or no cache folder.

    Under CI it is written but never read: a CI run passes only on numbers it computed
    itself (``DLA_DOCS_TRUST_CACHE=1`` reads it anyway, on the user's word).
    """
    if no_cache or cache_dir is None:
        return None
    trusted = not in_ci() or os.environ.get("DLA_DOCS_TRUST_CACHE") == "1"
    return Store(SealedFolder(cache_dir, readable=trusted))
