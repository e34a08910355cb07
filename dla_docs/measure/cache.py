"""A content-addressed cache of measurements.

Tracing the large variants takes seconds; documentation builds and CI checks run far more
often than the model code changes. An entry's key hashes everything a measurement depends
on (the model and measurement code, the variant's configuration, the image size, the torch
and fvcore versions), so a stale entry can never be found, only a missing one. Entries are
checked when read: a damaged one is ignored and rewritten, never trusted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import torch

from dla_docs.measure.core import Measurement
from dla_docs.zoo.variants import get_config

CACHE_FORMAT = 1
# The modules whose source decides what a measurement returns.
_MEASURED_CODE = ("zoo/blocks.py", "zoo/network.py", "zoo/variants.py", "measure/counting.py", "measure/core.py",
                  "measure/checkpoint.py")
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


@functools.cache
def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in _MEASURED_CODE:
        digest.update(name.encode())
        digest.update((_PACKAGE_DIR / name).read_bytes())
    return digest.hexdigest()


def _canonical(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def cache_key(variant: str, image_size: int) -> str:
    """The hex digest that names ``variant``'s measurement at ``image_size``."""
    inputs = {
        "format": CACHE_FORMAT,
        "code": _code_fingerprint(),
        "config": get_config(variant).as_dict(),
        "image_size": image_size,
        "torch": torch.__version__,
        "fvcore": metadata.version("fvcore"),
    }
    return hashlib.sha256(_canonical(inputs)).hexdigest()


@dataclass(frozen=True)
class MeasurementCache:
    """Measurements on disk under ``root``, one JSON file per key."""

    root: Path

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, variant: str, image_size: int) -> Measurement | None:
        """The cached measurement, or ``None`` when absent or damaged in any way."""
        key = cache_key(variant, image_size)
        try:
            record = json.loads(self._path(key).read_bytes())
            payload = record["measurement"]
            if record["key"] != key or record["sha256"] != hashlib.sha256(_canonical(payload)).hexdigest():
                return None
            measurement = Measurement.from_dict(payload)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if (measurement.variant, measurement.image_size) != (variant, image_size):
            return None
        return measurement

    def put(self, measurement: Measurement) -> None:
        """Store atomically: readers see the old entry or the new one, never half of one."""
        key = cache_key(measurement.variant, measurement.image_size)
        payload = measurement.to_dict()
        record = {"key": key, "sha256": hashlib.sha256(_canonical(payload)).hexdigest(), "measurement": payload}
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f)  # insertion order kept; the checksum uses the canonical form
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
