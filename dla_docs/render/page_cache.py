"""Rendered pages kept in the sealed store, by the digest of their inputs: a warm run renders
only the pages whose inputs changed.

A page is a pure function of three things: its part of the site model (frozen dataclasses:
:mod:`dla_docs.render.site_model`), the project's templates, and the renderer's code. Its key
is the SHA-256 of all three, taken from the objects themselves, never from a list kept by hand:

- the site-model objects are walked field by field (:func:`content_digest`); stored facts are
  named by the digest of their content (:class:`~dla_docs.measure.stored.StoredFacts`), so a
  variant's measurement and structure are not walked again;
- every file under the project's ``templates/`` (what the pages include may be any of them);
- the package's source (:func:`dla_docs.store.package_code`, as drawings are keyed) and the
  versions of Python, Jinja and MarkupSafe (from their metadata: a warm run imports no Jinja).

An edited template, a changed measurement or any edit to the code is a miss. Newly rendered
pages are written only by :meth:`PageCache.keep`, once the command succeeded.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any

from dla_docs.measure.stored import StoredFacts
from dla_docs.store import PageShelf, package_code, package_versions, put_pending


Seen = dict[int, tuple[Any, str]]  # id -> the object (held, so that its id is not reused) and its digest
RENDERING_PACKAGES = ("jinja2", "markupsafe")  # what renders a page, besides this package
LONG = 4096  # a string at least this long (a drawing) is digested once, however many pages show it


@functools.cache
def _fields(cls: type) -> tuple[str, tuple[str, ...]]:
    """A dataclass's spelling and its fields' names, in order (asked once per class)."""
    return f"{cls.__module__}.{cls.__qualname__}(", tuple(field.name for field in dataclasses.fields(cls))


def _walk(value: Any, seen: Seen, out: list[str]) -> None:
    """Append a canonical spelling of ``value`` to ``out`` (its type included)."""
    if isinstance(value, str) and len(value) < LONG:
        out.append(f"{type(value).__name__}{len(value)}:{value}")
    elif value is None or isinstance(value, (bool, int, float, enum.Enum)):
        out.append(f"{type(value).__name__}:{value!r}")
    elif isinstance(value, StoredFacts):
        out.append(f"F{value.digest}")
    elif id(value) in seen:
        out.append(f"D{seen[id(value)][1]}")
    elif isinstance(value, str):  # a long one (a drawing): digested once
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        seen[id(value)] = (value, digest)
        out.append(f"{type(value).__name__}#{digest}")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        spelling, names = _fields(type(value))
        out.append(spelling)
        for name in names:
            out.append(name)
            _walk(getattr(value, name), seen, out)
        out.append(")")
    elif isinstance(value, PurePath):
        out.append(f"P{len(str(value))}:{value}")
    elif isinstance(value, Mapping):
        out.append(f"M{len(value)}(")
        for key, item in value.items():
            _walk(key, seen, out)
            _walk(item, seen, out)
        out.append(")")
    elif isinstance(value, (list, tuple)):
        out.append(f"L{len(value)}(")
        for item in value:
            _walk(item, seen, out)
        out.append(")")
    elif isinstance(value, (set, frozenset)):
        parts = []
        for item in value:
            one: list[str] = []
            _walk(item, seen, one)
            parts.append("".join(one))
        out.append(f"S{len(value)}(" + "".join(sorted(parts)) + ")")
    else:  # an object of no known shape: its key could not follow its content
        raise TypeError(f"no content digest for {type(value).__qualname__}")


def content_digest(value: Any, seen: Seen | None = None) -> str:
    """The SHA-256 of ``value``'s content: a dataclass's type and every field in order, a
    mapping's items in order, a set's members sorted, stored facts by their content digest, a
    long string (a drawing) by its own SHA-256. ``seen`` remembers the digests of (frozen)
    objects already digested: a part of several pages is walked once."""
    seen = {} if seen is None else seen
    if id(value) in seen:
        return seen[id(value)][1]
    out: list[str] = []
    _walk(value, seen, out)
    digest = hashlib.sha256("\0".join(out).encode("utf-8", "surrogatepass")).hexdigest()
    seen[id(value)] = (value, digest)
    return digest


def templates_digest(templates_dir: Path) -> str:
    """The digest of every file under ``templates_dir`` (its path and bytes), and of where each
    link under it leads (a template that is a link out of the folder is refused: a link that
    changes is a change)."""
    digest = hashlib.sha256()
    for path in sorted(templates_dir.rglob("*")):
        name = path.relative_to(templates_dir).as_posix()
        if path.is_symlink():
            digest.update(repr(("link", name, str(path.resolve()))).encode("utf-8", "surrogateescape"))
        if path.is_file():
            digest.update(repr(("file", name, hashlib.sha256(path.read_bytes()).hexdigest())).encode(
                "utf-8", "surrogateescape"))
    return digest.hexdigest()


PASSED = "passed"  # what a kept check (:meth:`PageCache.checked`) holds


class PageCache:
    """Pages by the digest of their inputs; without a shelf (``--no-cache``, CI), every page is
    rendered. ``environment`` makes the templates' environment: it is called only when a page
    must be rendered (by default the project's own, without compiled templates kept)."""

    def __init__(self, shelf: PageShelf | None, templates_dir: Path,
                 environment: Callable[[], Any] | None = None) -> None:
        self.shelf = shelf
        self.templates_dir = templates_dir
        self.new: dict[str, str] = {}
        self._seen: Seen = {}
        self._base: str | None = None
        self._environment = environment
        self._env: Any = None

    def environment(self) -> Any:
        """The templates' environment, made at the first page rendered (by default the project's)."""
        if self._env is None:
            if self._environment is None:
                from dla_docs.render.templating import project_environment

                self._env = project_environment(self.templates_dir.parent)
            else:
                self._env = self._environment()
        return self._env

    def _key(self, name: str, inputs: Any) -> str | None:
        if self._base is None:  # Jinja's version from its metadata: a page taken from the store imports no Jinja
            self._base = "\0".join((package_code(), templates_digest(self.templates_dir), sys.version,
                                    repr(package_versions(RENDERING_PACKAGES))))
        try:
            parts = inputs if isinstance(inputs, tuple) else (inputs,)
            shows = "".join(content_digest(part, self._seen) for part in parts)
        except TypeError:
            return None  # rendered every time: better slow than stale
        return hashlib.sha256(f"{self._base}\0{name}\0{shows}".encode()).hexdigest()

    def page(self, name: str, inputs: Any, render: Callable[[], str]) -> str:
        """The page ``name`` rendered from ``inputs`` (everything ``render`` reads of the site
        model): from the store when it holds it, else rendered now."""
        key = self._key(name, inputs) if self.shelf is not None else None
        if key is None:
            return render()
        found = self.shelf.get(key)
        if found is not None:
            return found
        text = render()
        self.new[key] = text
        return text

    def checked(self, name: str, inputs: Any, check: Callable[[], None]) -> None:
        """Run ``check`` (it raises on what it refuses) unless it passed before on the same
        inputs: a check of the templates is a pure function of ``inputs``, the templates and
        the code, so its verdict is kept like a page, by their digest, and only once the
        command succeeded."""
        self.page(name, inputs, lambda: check() or PASSED)

    def keep(self) -> None:
        """Store the pages rendered anew (the command succeeded)."""
        put_pending(self.shelf, self.new)
