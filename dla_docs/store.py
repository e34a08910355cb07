"""The sealed store: what one command keeps for the next, so that a warm run needs no torch.

One folder (the project's ``cache-dir``, ``.dla-docs-cache`` by default) holds four kinds of
entry, each reached through its own typed shelf:

- :class:`MeasurementShelf`: each variant's :class:`~dla_docs.measure.facts.VariantFacts`
  (measurement and aggregation structure) at one image size;
- :class:`DrawingShelf`: drawn SVGs, by the digest of what they show;
- :class:`TemplateShelf`: page templates as Jinja compiled them, and their include lists;
- :class:`SiteShelf`: the stamp of the last site build.

**Keys that cannot go stale.** Nobody lists the code a measurement depends on. The measuring
worker reports every ``dla_docs`` module that was loaded when it measured (its source file
and SHA-256, :func:`loaded_code`); the entry keeps that manifest, and reading it hashes each
of those files again: an edited module, or a new one that an edited module imports, is a
miss. The entry's name covers the rest (the variant's configuration, the image size, the
Python, torch and fvcore versions). Drawings and compiled templates are keyed by the digest of
the whole package's source (:func:`package_code`) and of what they show.

**Trust.** Every entry is sealed with an HMAC-SHA256 under a random key that the store
creates for itself (``.key``, mode 0600): an entry edited by hand, copied from another store
or written by other code fails its seal and is a miss. Entries are read only as regular
files inside the folder (no links, FIFOs or devices), at most :data:`MAX_ENTRY_BYTES`, and
a measurement must have exactly the records' fields with exactly their types. Anything
else is a miss, never a traceback. Whether a command reads the store at all is decided
once, by :func:`open_store` (CI writes it but never reads it).

An entry is one file: a JSON header line (``name``, ``seal``) and then the payload bytes the
seal covers, so checking a seal re-serialises nothing and the payload's SHA-256 is the
entry's content digest.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import platform
import secrets
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from dla_docs.errors import DlaDocsError
from dla_docs.fs import contained, write_atomic

STORE_FORMAT = 3
MAX_ENTRY_BYTES = 8 * 1024 * 1024  # the largest entry (dla169's facts) is about 250 kB
KEY_FILE = ".key"
PACKAGE_DIR = Path(__file__).resolve().parent
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
    """
    manifest = {}
    for module in list(modules if modules is not None else sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if path.suffix == ".py" and contained(path, PACKAGE_DIR):
            digest = _digest_now(path)
            if digest is not None:
                manifest[path.relative_to(PACKAGE_DIR).as_posix()] = digest
    return dict(sorted(manifest.items()))


def code_unchanged(manifest: Any) -> bool:
    """Whether every file of a :func:`loaded_code` manifest still has the same content."""
    if not isinstance(manifest, dict) or not manifest:
        return False
    for name, digest in manifest.items():
        if not isinstance(name, str) or not isinstance(digest, str):
            return False
        path = (PACKAGE_DIR / name).resolve()
        if not contained(path, PACKAGE_DIR) or _file_digest(path) != digest:
            return False
    return True


@functools.cache
def package_code() -> str:
    """The digest of every source file of the package (what drawings and templates depend on)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update((_file_digest(path) or "-").encode())
    return digest.hexdigest()


@functools.cache
def package_versions() -> tuple[tuple[str, str], ...]:
    """The installed versions of what measures (torch, fvcore); one clear error when one is missing."""
    versions = []
    for package in MEASURED_PACKAGES:
        try:
            versions.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            raise MissingPackageError(
                f"{package}: not installed (its package metadata is missing); dla-docs measures with it: "
                f"reinstall it with `pip install --force-reinstall {package}` in this environment") from None
    return tuple(versions)


def _canonical(data: object) -> bytes:
    """Compact JSON with every mapping in its own order (records' field order is part of their meaning)."""
    return json.dumps(data, separators=(",", ":")).encode()


# -- the sealed folder ----------------------------------------------------------------------


@dataclass(frozen=True)
class SealedFolder:
    """Entries under ``root``, each sealed with the folder's own key; ``readable=False`` makes
    every read a miss (writes still happen)."""

    root: Path
    readable: bool = True

    def _key(self, create: bool) -> bytes | None:
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
            return self._key(create=False)
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key

    @staticmethod
    def digest_of(value: Any) -> str:
        """The SHA-256 that :meth:`write` would return for ``value`` (a value kept nowhere)."""
        return hashlib.sha256(_canonical(value)).hexdigest()

    @staticmethod
    def _seal(key: bytes, name: str, payload: bytes) -> str:
        return hmac.new(key, name.encode() + b"\0" + payload, hashlib.sha256).hexdigest()

    def read(self, relative: str, name: str) -> tuple[Any, str] | None:
        """The payload sealed at ``relative`` under ``name`` and its SHA-256, or ``None``."""
        if not self.readable:
            return None
        key = self._key(create=False)
        if key is None:
            return None
        path = self.root / relative
        try:
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES or not contained(path, self.root):
                return None
            with path.open("rb") as f:
                data = f.read(MAX_ENTRY_BYTES + 1)
            head, _, payload = data.partition(b"\n")
            header = json.loads(head)
            if header.get("name") != name or not isinstance(header.get("seal"), str):
                return None
            if not hmac.compare_digest(header["seal"], self._seal(key, name, payload)):
                return None
            return json.loads(payload), hashlib.sha256(payload).hexdigest()
        except (OSError, ValueError, AttributeError, RecursionError):
            return None

    def write(self, relative: str, name: str, value: Any) -> str:
        """Seal ``value`` under ``name`` at ``relative``, atomically; returns its SHA-256."""
        key = self._key(create=True)
        if key is None:
            raise OSError(f"the store's key {self.root / KEY_FILE} is not a regular file")
        payload = _canonical(value)
        header = json.dumps({"name": name, "seal": self._seal(key, name, payload)}).encode()
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, header + b"\n" + payload, mode=0o600)
        return hashlib.sha256(payload).hexdigest()


# -- the shelves ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFacts:
    """One variant's facts as the store holds them, with the digest of their content."""

    facts: Any  # dla_docs.measure.facts.VariantFacts
    digest: str


class MeasurementShelf:
    """Each variant's facts at one image size, valid while the code that measured them is unchanged."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    @staticmethod
    def entry_name(variant: str, image_size: int) -> str:
        from dla_docs.zoo.variants import get_config

        inputs = {"format": STORE_FORMAT, "config": get_config(variant).as_dict(), "image_size": image_size,
                  "python": platform.python_version(), "packages": dict(package_versions())}
        return hashlib.sha256(_canonical(inputs)).hexdigest()

    @staticmethod
    def _path(name: str) -> str:
        return f"{name[:2]}/{name}.json"

    def get(self, variant: str, image_size: int) -> StoredFacts | None:
        """The facts, or ``None`` when absent, unsealed, damaged or measured by other code."""
        from dla_docs.measure.facts import VariantFacts
        from dla_docs.measure.serial import RecordError

        name = self.entry_name(variant, image_size)
        found = self.folder.read(self._path(name), name)
        if found is None or not isinstance(found[0], dict) or set(found[0]) != {"code", "facts"}:
            return None
        entry, digest = found
        if not code_unchanged(entry["code"]):
            return None
        try:
            facts = VariantFacts.from_dict(entry["facts"])
        except (RecordError, RecursionError):
            return None
        m = facts.measurement
        if (m.variant, m.image_size, facts.structure.variant) != (variant, image_size, variant):
            return None
        return StoredFacts(facts, digest)

    def put(self, facts: Any, code: dict[str, str]) -> StoredFacts:
        """Keep ``facts`` measured by ``code`` (a :func:`loaded_code` manifest)."""
        m = facts.measurement
        name = self.entry_name(m.variant, m.image_size)
        return StoredFacts(facts, self.folder.write(self._path(name), name, {"code": code, "facts": facts.to_dict()}))


class DrawingShelf:
    """Drawn SVGs by digest (see :mod:`dla_docs.render.drawing`)."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    def get(self, digest: str) -> str | None:
        found = self.folder.read(f"svg/{digest}.json", digest)
        return found[0] if found is not None and isinstance(found[0], str) else None

    def put(self, digest: str, svg: str) -> None:
        self.folder.write(f"svg/{digest}.json", digest, svg)


class TemplateShelf:
    """Compiled page templates and their include lists (see :mod:`dla_docs.render.templating`)."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    def get_bytecode(self, name: str) -> bytes | None:
        found = self.folder.read(f"jinja/{name}.json", name)
        try:
            return base64.b64decode(found[0], validate=True) if found and isinstance(found[0], str) else None
        except ValueError:
            return None

    def put_bytecode(self, name: str, code: bytes) -> None:
        self.folder.write(f"jinja/{name}.json", name, base64.b64encode(code).decode("ascii"))

    def get_includes(self, name: str) -> list | None:
        found = self.folder.read(f"jinja-includes/{name}.json", name)
        return found[0] if found is not None and isinstance(found[0], list) else None

    def put_includes(self, name: str, includes: list) -> None:
        self.folder.write(f"jinja-includes/{name}.json", name, includes)


class SiteShelf:
    """The stamp of the last site build (see :mod:`dla_docs.publish.uptodate`)."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder

    def get(self) -> dict | None:
        found = self.folder.read("site.json", "site")
        return found[0] if found is not None and isinstance(found[0], dict) else None

    def put(self, stamp: dict) -> None:
        self.folder.write("site.json", "site", stamp)


class Store:
    """The project's sealed store, one typed shelf per kind of entry."""

    def __init__(self, folder: SealedFolder) -> None:
        self.folder = folder
        self.measurements = MeasurementShelf(folder)
        self.drawings = DrawingShelf(folder)
        self.templates = TemplateShelf(folder)
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
