"""The model index against the zoo: unknown and missing variants."""


from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from dla_docs.errors import Location
from dla_docs.metadata.schema import Template

# -- the model index against the zoo ---------------------------------------------------------

@dataclass(frozen=True)
class ZooMismatch:
    """A name the zoo does not know (``entry`` set) or a zoo variant with no entry."""

    kind: str  # "unknown-variant" or "missing-variant"
    name: str
    message: str
    location: Location
    field: str
    label: str = ""


def check_zoo(templates: Sequence[Template], known: Sequence[str]) -> list[ZooMismatch]:
    """Entries naming no zoo variant, and zoo variants that no template documents.

    Together the templates must cover every variant in ``known``: a new variant in the code
    must not go undocumented, and a documented one must not vanish from the code.
    """
    mismatches = []
    documented: set[str] = set()
    for template in templates:
        for entry in template.index.models:
            documented.add(entry.name)
            if entry.name not in known:
                close = difflib.get_close_matches(entry.name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
                mismatches.append(ZooMismatch(
                    "unknown-variant", entry.name, f"no variant {entry.name!r} in the model zoo{hint}",
                    Location(template.display, entry.name_location.line, entry.name_location.column),
                    "Name", entry.label))
    if templates:
        first = templates[0]
        for name in known:
            if name not in documented:
                mismatches.append(ZooMismatch(
                    "missing-variant", name, f"zoo variant {name!r} has no entry in any template",
                    Location(first.display, first.index.models_line, 1), "Models"))
    return mismatches
