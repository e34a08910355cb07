"""The measurements' shelf of the store: each variant's facts at one image size, sealed.

The store's seal (:mod:`dla_docs.store.seal`) knows nothing of measurements; this shelf does,
so it lives with them (the measuring code imports the store, never the other way round).
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from typing import Any

from dla_docs.store.seal import STORE_FORMAT, SealedFolder, canonical, code_unchanged, package_versions


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
        return hashlib.sha256(canonical(inputs)).hexdigest()

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




def measurement_shelf(store: Any) -> MeasurementShelf | None:
    """The measurements' shelf of ``store`` (a :class:`dla_docs.store.Store`, or ``None``: no shelf)."""
    return MeasurementShelf(store.folder) if store is not None else None
