"""The seal: one folder of sealed entries, and the code an entry depends on.

The store (:mod:`dla_docs.store`) keeps what one command leaves for the next in one folder
(the project's ``cache-dir``); this module knows nothing of what the entries hold, only how
they are sealed, read and written, and how to name the code behind them. The typed shelves
are :mod:`dla_docs.store.shelves` (drawings, templates, the site stamp) and
:mod:`dla_docs.measure.stored` (measurements).

**Keys that cannot go stale.** Nobody lists the code a measurement depends on. The measuring
worker reports every ``dla_docs`` module that was loaded when it measured (its source file
and the SHA-256 of the bytes compiled, recorded as each was imported:
:mod:`dla_docs.store.imports`, :func:`loaded_code`); the entry keeps that manifest, and
reading it hashes each of those files again: an edited module, or a new one that an edited
module imports, is a miss. A file edited after it was imported cannot lend its new digest to
what the old code measured. The entry's name covers the rest (the variant's configuration, the image size, the
Python, torch and fvcore versions). Drawings and compiled templates are keyed by the digest of
the whole package's source (:func:`package_code`) and of what they show.

**Trust.** Every entry is sealed with an HMAC-SHA256 under a random key that the store
creates for itself (``.key``, mode 0600): an entry edited by hand, copied from another store
or written by other code fails its seal and is a miss. Entries are read only as regular
files inside the folder (no links, FIFOs or devices), at most :data:`MAX_ENTRY_BYTES`, and
a measurement must have exactly the records' fields with exactly their types. Anything
else is a miss, never a traceback. **No links below the root**: an entry is neither read
nor written through a link anywhere below the folder (``svg`` linked to ``/tmp/o``): a
write refuses with :class:`OSError` (the shelves then leave the entry unstored), a read is a
miss.

An entry is one file: a JSON header line (``name``, ``seal``) and then the payload bytes the
seal covers, so checking a seal re-serialises nothing and the payload's SHA-256 is the
entry's content digest. The payload is compact JSON, or for a text entry (drawings, pages:
:meth:`SealedFolder.write_text`) the text's UTF-8 bytes, whose seal covers that kind too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dla_docs.errors import DlaDocsError
from dla_docs.fs import contained, write_atomic
from dla_docs.store import imports

STORE_FORMAT = 3
MAX_ENTRY_BYTES = 8 * 1024 * 1024  # the largest entry (dla169's facts) is about 250 kB
KEY_FILE = ".key"
TEXT = b"text\0"  # what a text entry's seal covers before its name (a JSON entry's: nothing)
PACKAGE_DIR = Path(__file__).resolve().parents[1]
MEASURED_PACKAGES = ("torch", "fvcore")


class MissingPackageError(DlaDocsError):
    """A package dla-docs measures with is not installed (or has lost its metadata)."""


# -- the code behind an entry ---------------------------------------------------------------


def _digest_now(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


_file_digest = functools.cache(_digest_now)  # a command reads each source once, however many entries name it


def loaded_code(modules: Iterable[Any] | None = None) -> dict[str, str]:
    """``{path inside the package: SHA-256}`` of every loaded ``dla_docs`` module's source.

    Called by the measuring worker once it has measured: whatever code ran is loaded, under
    whatever name it was loaded (``__main__`` included), so nothing can be left off by hand.
    Where the process records its imports (:mod:`dla_docs.store.imports`, as the measuring
    server does), each digest is that of the bytes compiled; elsewhere the file is read now.
    """
    recorded = imports.recorded() or {}
    manifest = {}
    for module in list(modules if modules is not None else sys.modules.values()):
        file = getattr(module, "__file__", None)
        source = _package_source(file) if isinstance(file, str) and file else None
        if source is not None:
            path, name = source
            digest = recorded.get(str(path)) or _digest_now(path)
            if digest is not None:
                manifest[name] = digest
    return dict(sorted(manifest.items()))


@functools.cache
def _package_source(file: str) -> tuple[Path, str] | None:
    """A loaded module's ``__file__`` resolved once per process: its path and its name inside
    the package (``measure/core.py``), or ``None`` for anything but a ``.py`` file of the package.
    (A worker asks for the 1,200 modules torch loads after every variant, and the server once
    before it forks them: each path is resolved through its folder's resolution, kept, and one
    look at the file itself, see :func:`_resolved`.)"""
    path = Path(_resolved(file))
    if path.suffix != ".py" or not contained(path, PACKAGE_DIR, resolved=True):
        return None
    return path, path.relative_to(PACKAGE_DIR).as_posix()


def _resolved(file: str) -> str:
    """``os.path.realpath(file)``, with each folder resolved once per process (:func:`_resolved_folder`):
    once its folder is resolved, a file leads elsewhere only if it is a link itself. A relative
    path (the working folder may change) or one ending in ``.`` or ``..`` is resolved whole."""
    folder, name = os.path.split(file)
    if not os.path.isabs(file) or name in ("", ".", ".."):
        return os.path.realpath(file)
    path = os.path.join(_resolved_folder(folder), name)
    return os.path.realpath(path) if os.path.islink(path) else path


_resolved_folder = functools.cache(os.path.realpath)


def changed_code(manifest: dict) -> list[str]:
    """The files of a :func:`loaded_code` manifest (``dla_docs/...``) whose content is no longer
    the recorded one: edited, removed, outside the package, or not named and hashed as text."""
    changed = []
    for name, digest in sorted(manifest.items(), key=str):
        if not isinstance(name, str) or not isinstance(digest, str) or _package_file_digest(name) != digest:
            changed.append(f"dla_docs/{name}")
    return changed


@functools.cache
def _package_file_digest(name: str) -> str | None:
    """The digest of the package's file ``name`` (``None``: outside the package, or unreadable);
    a command resolves and reads each once, however many entries name it."""
    path = (PACKAGE_DIR / name).resolve()
    return _file_digest(path) if contained(path, PACKAGE_DIR, resolved=True) else None


def code_unchanged(manifest: Any) -> bool:
    """Whether every file of a :func:`loaded_code` manifest still has the same content."""
    return isinstance(manifest, dict) and bool(manifest) and not changed_code(manifest)


@functools.cache
def package_code() -> str:
    """The digest of every source file of the package (what drawings and templates depend on)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update((_file_digest(path) or "-").encode())
    return digest.hexdigest()


@functools.cache
def package_versions(packages: tuple[str, ...] = MEASURED_PACKAGES) -> tuple[tuple[str, str], ...]:
    """The installed versions of ``packages`` (by default what measures: torch, fvcore), read
    from their metadata without importing them; one clear error when one is missing."""
    from importlib import metadata  # here: a cold command starts its measuring server before it needs them

    versions = []
    for package in packages:
        try:
            versions.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            raise MissingPackageError(
                f"{package}: not installed (its package metadata is missing); dla-docs works with it: "
                f"reinstall it with `pip install --force-reinstall {package}` in this environment") from None
    return tuple(versions)


def canonical(data: object) -> bytes:
    """Compact JSON with every mapping in its own order (records' field order is part of their meaning)."""
    return json.dumps(data, separators=(",", ":")).encode()


# -- the sealed folder ----------------------------------------------------------------------


@dataclass(frozen=True)
class SealedFolder:
    """Entries under ``root``, each sealed with the folder's own key; ``readable=False`` makes
    every read a miss (writes still happen)."""

    root: Path
    readable: bool = True
    # the key once read or made: one command (one SealedFolder) reads ``.key`` once, not per entry
    _known: list[bytes] = field(default_factory=list, init=False, repr=False, compare=False)

    def _key(self, create: bool) -> bytes | None:
        if not self._known:
            key = self._read_key(create)
            if key is not None:
                self._known.append(key)
            return key
        return self._known[0]

    def _read_key(self, create: bool) -> bytes | None:
        path = self.root / KEY_FILE
        try:
            if path.is_symlink() or not stat.S_ISREG(path.stat().st_mode):
                return None
            key = path.read_bytes()
            return key if len(key) == 32 else None
        except FileNotFoundError:
            if not create:
                return None
        except OSError:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return self._read_key(create=False)
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key

    @staticmethod
    def digest_of(value: Any) -> str:
        """The SHA-256 that :meth:`write` would return for ``value`` (a value kept nowhere)."""
        return hashlib.sha256(canonical(value)).hexdigest()

    @staticmethod
    def _seal(key: bytes, name: str, payload: bytes, kind: bytes = b"") -> str:
        """The HMAC of ``payload`` under ``name``; a text entry's (``kind``) covers its kind too, so
        that no JSON entry can pass for text, nor text for JSON."""
        return hmac.new(key, kind + name.encode() + b"\0" + payload, hashlib.sha256).hexdigest()

    def _no_links(self, relative: str) -> None:
        """Refuse a link (or a file) at any folder step below the root on the way to ``relative``,
        and a ``relative`` that is not a plain path below the root (absolute, or with ``..``).
        The entry itself may be anything: a read takes only a regular file, and a write replaces
        whatever is there by a rename (a link there is replaced, never followed). So an entry
        that passes lies inside the root however the root itself is reached: nothing is resolved."""
        parts = Path(relative).parts
        if not parts or os.path.isabs(relative) or ".." in parts:
            raise OSError(f"{relative!r}: not a path inside the store")
        current = self.root
        for part in parts[:-1]:
            current = current / part
            try:
                info = current.lstat()
            except FileNotFoundError:
                return
            if not stat.S_ISDIR(info.st_mode):
                raise OSError(f"{current}: a link or a file where the store expects its own folder; the store "
                              "writes nothing through links (remove it, or the whole cache folder)")

    def _sealed(self, relative: str, name: str, kind: bytes) -> bytes | None:
        """The payload bytes sealed at ``relative`` under ``name`` as ``kind``, or ``None``."""
        if not self.readable:
            return None
        key = self._key(create=False)
        if key is None:
            return None
        path = self.root / relative
        try:
            self._no_links(relative)
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            with path.open("rb") as f:
                data = f.read(MAX_ENTRY_BYTES + 1)
            head, _, payload = data.partition(b"\n")
            header = json.loads(head)
            if header.get("name") != name or not isinstance(header.get("seal"), str):
                return None
            if not hmac.compare_digest(header["seal"], self._seal(key, name, payload, kind)):
                return None
            return payload
        except (OSError, ValueError, AttributeError, RecursionError):
            return None

    def read(self, relative: str, name: str) -> tuple[Any, str] | None:
        """The payload sealed at ``relative`` under ``name`` and its SHA-256, or ``None``."""
        payload = self._sealed(relative, name, b"")
        try:
            return None if payload is None else (json.loads(payload), hashlib.sha256(payload).hexdigest())
        except (ValueError, RecursionError):
            return None

    def read_text(self, relative: str, name: str) -> str | None:
        """The text sealed at ``relative`` under ``name`` by :meth:`write_text`, or ``None``: a
        drawing or a page is kept as its UTF-8 bytes, neither escaped as JSON nor digested."""
        payload = self._sealed(relative, name, TEXT)
        try:
            return None if payload is None else payload.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return None

    def write(self, relative: str, name: str, value: Any) -> str:
        """Seal ``value`` under ``name`` at ``relative``, atomically; returns its SHA-256."""
        payload = canonical(value)
        self._write(relative, name, payload, b"")
        return hashlib.sha256(payload).hexdigest()

    def write_text(self, relative: str, name: str, text: str) -> None:
        """Seal ``text`` (its UTF-8 bytes) under ``name`` at ``relative``, atomically."""
        self._write(relative, name, text.encode("utf-8", "surrogatepass"), TEXT)

    def _write(self, relative: str, name: str, payload: bytes, kind: bytes) -> None:
        key = self._key(create=True)
        if key is None:
            raise OSError(f"the store's key {self.root / KEY_FILE} is not a regular file")
        header = json.dumps({"name": name, "seal": self._seal(key, name, payload, kind)}).encode()
        path = self.root / relative
        self._no_links(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._no_links(relative)  # made meanwhile by another process: checked again
        write_atomic(path, header + b"\n" + payload, mode=0o600)
