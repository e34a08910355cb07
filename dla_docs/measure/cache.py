"""The measurement cache: what the workers computed, kept so that a warm run needs no torch.

Entries are keyed by everything a measurement depends on: the measuring code (a hash of
its source files), the variant's configuration, the image size and the torch and fvcore
versions; an entry holds the :class:`~dla_docs.measure.facts.VariantFacts` (measurement and
aggregation structure). Rendered graph SVGs are kept beside them, keyed by their DOT source
and the version of ``dot`` that drew them, and so is the stamp of the last site build
(:mod:`dla_docs.publish.uptodate`).

Trust model (the README's security section argues it):

- Every entry is sealed with an HMAC-SHA256 under a random key that the cache creates for
  itself (``.key``, mode 0600). An entry edited by hand, copied from another cache or
  written by other code fails its seal and is measured again; so does one whose key no
  longer exists. The seal stops accidents and casual forgery, not someone who reads the
  key: they could as well change the code.
- Reading is bounded: only regular files inside the cache folder (no links, no FIFOs, no
  devices), at most :data:`MAX_ENTRY_BYTES`, and the JSON must have exactly the records'
  fields with exactly their types (:mod:`dla_docs.measure.serial`). Anything else is a miss.
- Whether a command reads the cache at all is the caller's decision (``verify`` in CI does
  not: see :func:`dla_docs.run.cache_for`); writing is always safe.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from dla_docs.fs import contained, write_atomic
from dla_docs.measure.facts import VariantFacts
from dla_docs.measure.serial import RecordError
from dla_docs.zoo.variants import get_config

CACHE_FORMAT = 2
MAX_ENTRY_BYTES = 8 * 1024 * 1024  # the largest entry (dla169) is about 250 kB
KEY_FILE = ".key"
# The modules whose source decides what a measurement returns.
_MEASURED_CODE = ("zoo/blocks.py", "zoo/network.py", "zoo/variants.py", "zoo/factory.py", "measure/counting.py",
                  "measure/core.py", "measure/facts.py", "measure/spec.py", "measure/checkpoint.py",
                  "measure/structure.py", "measure/serial.py", "measure/analysis.py", "measure/analysis_facts.py",
                  "measure/geometry.py", "measure/memory.py", "measure/receptive_field.py", "measure/reconcile.py",
                  "measure/recording.py", "measure/lowering.py", "measure/meta_shapes.py", "measure/views/counts.py",
                  "measure/views/levels.py", "measure/views/structure.py", "measure/views/windows.py",
                  "measure/adapters/__init__.py", "measure/adapters/torch_private.py",
                  "measure/adapters/fvcore_private.py")
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


@functools.cache
def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in _MEASURED_CODE:
        digest.update(name.encode())
        digest.update((_PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()


@functools.cache
def _versions() -> tuple[str, str]:
    return metadata.version("torch"), metadata.version("fvcore")


def _canonical(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def cache_key(variant: str, image_size: int) -> str:
    """The hex digest that names ``variant``'s measurement at ``image_size``."""
    inputs = {
        "format": CACHE_FORMAT,
        "code": _code_fingerprint(),
        "config": get_config(variant).as_dict(),
        "image_size": image_size,
        "torch": _versions()[0],
        "fvcore": _versions()[1],
    }
    return hashlib.sha256(_canonical(inputs)).hexdigest()


@dataclass(frozen=True)
class MeasurementCache:
    """Sealed entries on disk under ``root``; ``readable=False`` makes every read a miss."""

    root: Path
    readable: bool = True

    # -- the seal --------------------------------------------------------------------------

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
    def _seal(key: bytes, name: str, payload: Any) -> str:
        return hmac.new(key, name.encode() + b"\0" + _canonical(payload), hashlib.sha256).hexdigest()

    def _read(self, path: Path, name: str) -> Any | None:
        """The sealed payload stored at ``path`` under ``name``, or ``None``."""
        if not self.readable:
            return None
        key = self._key(create=False)
        if key is None:
            return None
        try:
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES or not contained(path, self.root):
                return None
            with path.open("rb") as f:
                record = json.loads(f.read(MAX_ENTRY_BYTES + 1))
            payload, seal = record["payload"], record["seal"]
            if record["name"] != name or not isinstance(seal, str):
                return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None
        return payload if hmac.compare_digest(seal, self._seal(key, name, payload)) else None

    def _write(self, path: Path, name: str, payload: Any) -> None:
        key = self._key(create=True)
        if key is None:
            raise OSError(f"the cache key {self.root / KEY_FILE} is not a regular file")
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"name": name, "seal": self._seal(key, name, payload), "payload": payload}
        write_atomic(path, json.dumps(record).encode(), mode=0o600)

    # -- measurements ------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get_facts(self, variant: str, image_size: int) -> VariantFacts | None:
        """The cached facts, or ``None`` when absent, unsealed or damaged in any way."""
        key = cache_key(variant, image_size)
        payload = self._read(self._path(key), key)
        if payload is None:
            return None
        try:
            facts = VariantFacts.from_dict(payload)
        except (RecordError, RecursionError):
            return None
        m = facts.measurement
        if (m.variant, m.image_size, facts.structure.variant) != (variant, image_size, variant):
            return None
        return facts

    def may_hold(self, variant: str, image_size: int) -> bool:
        """Whether an entry for the facts is there to be read (a hint: nothing is read or checked)."""
        return self.readable and self._path(cache_key(variant, image_size)).is_file()

    def get(self, variant: str, image_size: int):
        """The cached :class:`~dla_docs.measure.facts.Measurement`, or ``None``."""
        facts = self.get_facts(variant, image_size)
        return facts.measurement if facts else None

    def put(self, facts: VariantFacts) -> None:
        """Store atomically: readers see the old entry or the new one, never half of one."""
        key = cache_key(facts.measurement.variant, facts.measurement.image_size)
        self._write(self._path(key), key, facts.to_dict())

    # -- drawn graphs ------------------------------------------------------------------------

    def get_svg(self, digest: str) -> str | None:
        payload = self._read(self.root / "svg" / f"{digest}.json", digest)
        return payload if isinstance(payload, str) else None

    def put_svg(self, digest: str, svg: str) -> None:
        self._write(self.root / "svg" / f"{digest}.json", digest, svg)

    # -- compiled page templates (dla_docs.render.templating.SealedBytecodeCache) ---------------

    def get_bytecode(self, name: str) -> bytes | None:
        payload = self._read(self.root / "jinja" / f"{name}.json", name)
        try:
            return base64.b64decode(payload, validate=True) if isinstance(payload, str) else None
        except ValueError:
            return None

    def put_bytecode(self, name: str, code: bytes) -> None:
        self._write(self.root / "jinja" / f"{name}.json", name, base64.b64encode(code).decode("ascii"))

    def get_includes(self, name: str) -> list | None:
        payload = self._read(self.root / "jinja-includes" / f"{name}.json", name)
        return payload if isinstance(payload, list) else None

    def put_includes(self, name: str, includes: list) -> None:
        self._write(self.root / "jinja-includes" / f"{name}.json", name, includes)

    # -- the last site build (dla_docs.publish.uptodate) ---------------------------------------

    def get_site(self) -> dict | None:
        payload = self._read(self.root / "site.json", "site")
        return payload if isinstance(payload, dict) else None

    def put_site(self, stamp: dict) -> None:
        self._write(self.root / "site.json", "site", stamp)
