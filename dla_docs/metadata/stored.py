"""Parsed model-index blocks kept in the sealed store, so that a warm command parses no YAML.

Parsing a template's block (ruamel.yaml's composer, then every value checked) is the
largest part of a warm ``verify``. The index is a pure function of the template's exact
text, the path it was read from, the reader's code and ruamel.yaml's version, so its key is
the digest of all four, taken from them, never from a list kept by hand: the text's
SHA-256, the whole package's source (:func:`dla_docs.store.package_code`, as drawings and
pages are keyed), Python's and ruamel.yaml's versions. An edited template is parsed again
(and so is every template after any edit to the code). Only a block that parsed without a
problem is kept: a bad one is parsed, and reported, every time.

An entry is untrusted data like every other: it is sealed (:class:`dla_docs.store.IndexShelf`)
and rebuilt only when it has exactly the records' fields with exactly their types
(:func:`dla_docs.measure.serial.from_data`); anything else is a miss, and the block is parsed.
New entries are written by :meth:`ParsedIndexes.keep`, once every input was read.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from dla_docs.measure.serial import RecordError, from_data, to_data
from dla_docs.metadata.schema import Collection, ModelEntry, ModelIndex
from dla_docs.store import IndexShelf, STORE_FORMAT, package_code, put_pending


@dataclass(frozen=True)
class _Parsed:
    """A :class:`ModelIndex` as stored: everything but its path (which is in the key)."""

    models: list[ModelEntry]
    collections: list[Collection]
    models_line: int
    type: str | None


def _ruamel_version() -> str:
    try:
        return metadata.version("ruamel.yaml")
    except metadata.PackageNotFoundError:
        return "-"  # then parsing fails with its own error


class ParsedIndexes:
    """Model-index blocks by the digest of their text, the path and the code; without a shelf
    (``--no-cache``, CI), every block is parsed."""

    def __init__(self, shelf: IndexShelf | None) -> None:
        self.shelf = shelf
        self.new: dict[str, dict] = {}
        self._base: str | None = None

    def _key(self, text: str, path: Path) -> str:
        if self._base is None:
            self._base = "\0".join((str(STORE_FORMAT), package_code(), sys.version, _ruamel_version()))
        text_digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return hashlib.sha256(f"{self._base}\0{path}\0{text_digest}".encode("utf-8", "surrogateescape")).hexdigest()

    def get(self, text: str, path: Path) -> ModelIndex | None:
        """The index parsed from exactly ``text`` read at ``path``, if the store holds it."""
        if self.shelf is None:
            return None
        data = self.shelf.get(self._key(text, path))
        if data is None:
            return None
        try:
            parsed = from_data(_Parsed, data)
        except (RecordError, RecursionError):
            return None
        return ModelIndex(path, parsed.models, parsed.collections, parsed.models_line, parsed.type)

    def remember(self, text: str, path: Path, index: ModelIndex) -> None:
        """Keep ``index``, parsed from ``text`` at ``path`` without a problem, at :meth:`keep`."""
        if self.shelf is not None:
            self.new[self._key(text, path)] = to_data(_Parsed(index.models, index.collections, index.models_line,
                                                              index.type))

    def keep(self) -> None:
        """Store the blocks parsed anew (every input was read)."""
        put_pending(self.shelf, self.new)
