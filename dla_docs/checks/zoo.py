"""The model index against the zoo: unknown and missing variants."""


from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dla_docs.errors import Location
from dla_docs.metadata.schema import Template

# -- the model index against the zoo ---------------------------------------------------------

@dataclass(frozen=True)
class ZooMismatch:
    """A name the zoo does not know (``entry`` set) or a zoo variant with no entry."""

    kind: Literal["unknown-variant", "missing-variant"]  # a Finding's kind: checked when it becomes one
    name: str
    message: str
    location: Location
    field: str
    label: str = ""


def suggest(name: str, known: Sequence[str]) -> str | None:
    """The known name ``name`` was probably meant to be: the same but for case, else the closest."""
    folded = name.casefold()
    same = [k for k in known if k.casefold() == folded]
    if same:
        return same[0]
    if len(name) > 4 * max((len(k) for k in known), default=0):
        return None  # not a misspelling; and comparing a huge name costs time
    close = difflib.get_close_matches(folded, [k.casefold() for k in known], n=1)
    return next((k for k in known if close and k.casefold() == close[0]), None)


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
                close = suggest(entry.name, known)
                hint = f"; did you mean {close!r}?" if close else f"; known: {', '.join(known)}"
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
