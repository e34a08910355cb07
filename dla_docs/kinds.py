"""The boundary check of the records' ``Literal``-typed fields (node and edge kinds, finding
kinds, check statuses): one helper for every record that has one. Torch-free."""

from __future__ import annotations

from typing import get_args


def check_literal(record: object, value: str, kinds: object) -> None:
    """Refuse ``record`` when ``value`` is none of the ``Literal`` type ``kinds``' values."""
    if value not in get_args(kinds):
        raise ValueError(f"{type(record).__name__} of unknown kind {value!r} (one of {', '.join(get_args(kinds))})")
