"""Model-index values: from YAML nodes to checked Python numbers, lists and text.

Files in the wild write numbers as strings (``'224'``), accuracies as percentages
(``78.03%``) and sometimes nonsense; each converter accepts the first two and refuses the
last with a message saying why (:class:`BadValue`). Numbers are compared as decimals
before conversion, so a written ``1e999999999`` is refused at once instead of expanded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from math import isfinite
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a node is looked at: reading a parsed index from the store needs no YAML
    from ruamel.yaml.nodes import Node, ScalarNode


def canonical_key(key: str) -> str:
    """The comparison form of a key: case-folded, ``_``/``-`` as spaces, spaces collapsed."""
    return " ".join(re.sub(r"[_-]", " ", key).split()).casefold()


_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, NULL_TAG, _BOOL = (_TAG + t for t in ("str", "int", "float", "null", "bool"))
ALLOWED_TAGS = {_TAG + t for t in ("str", "int", "float", "null", "bool", "map", "seq", "timestamp")}


def kind_of(node: Node) -> str:
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return shown(node.value)


SHOWN_CHARS = 60


def shown(value: Any) -> str:
    """``repr(value)`` cut to :data:`SHOWN_CHARS`: a message quotes a bad value, not a megabyte of it."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."


class BadValue(ValueError):
    """A value that does not have the field's type or range; the message says why."""


def to_scalar(node: Node) -> ScalarNode:
    from ruamel.yaml.nodes import ScalarNode

    if not isinstance(node, ScalarNode):
        raise BadValue(f"expected a single value, got {kind_of(node)}")
    if node.tag == _BOOL:
        raise BadValue(f"expected a number, got the boolean {shown(node.value)}")
    if node.tag == NULL_TAG:
        raise BadValue("expected a number, got nothing")
    return node


# Numbers that YAML 1.1 readers (PyYAML, ruamel.yaml under ``%YAML 1.1``, most tools) and
# YAML 1.2 readers read differently: each is refused, never guessed.
_YAML_1_1 = (
    (re.compile(r"[-+]?0[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?"),
     "a leading zero (YAML 1.1 reads 010 as the octal 8, YAML 1.2 as 10)"),
    (re.compile(r"[-+]?0[oOxXbB][0-9a-fA-F_]*"), "a 0o/0x/0b prefix (an octal, hexadecimal or binary number "
                                                 "in one YAML version, text in another)"),
    (re.compile(r"[-+]?[0-9][0-9_]*(:[0-9_]+)+(\.[0-9_]*)?"), "a sexagesimal number (YAML 1.1 reads 1:20 as 80, "
                                                            "YAML 1.2 as text)"),
    (re.compile(r"[-+]?[0-9_]*_[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?"), "'_' digit separators (YAML 1.1 drops "
                                                                       "them, YAML 1.2 reads text)"),
)


def refuse_yaml_1_1(raw: str) -> None:
    """A :class:`BadValue` when ``raw`` is a number YAML 1.1 and YAML 1.2 read differently."""
    for pattern, why in _YAML_1_1:
        if pattern.fullmatch(raw):
            raise BadValue(f"{shown(raw)} is written with {why}: YAML readers disagree on its value; "
                           "write the number plainly, in decimal digits without leading zeros")


def to_decimal(node: Node) -> Decimal:
    """A number written plainly or as a string (``'224'``); never a boolean or a date, nor a
    number that YAML 1.1 and 1.2 read differently (``010``, ``0x10``, ``1:20``, ``1_000``)."""
    scalar = to_scalar(node)
    raw = str(scalar.value).strip()
    refuse_yaml_1_1(raw)
    if scalar.tag not in (_INT, _FLOAT, _STR) or not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", raw):
        raise BadValue(f"expected a number, got {shown(scalar.value)}")
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise BadValue(f"expected a number, got {shown(scalar.value)}") from None


MAX_INT = 2 ** 63 - 1  # every count dla-docs records fits a signed 64-bit integer


def positive_int(node: Node) -> int:
    """A positive whole number below 2**63; compared as a Decimal first, so that a
    written ``1e999999999`` is refused at once instead of being expanded digit by digit."""
    number = to_decimal(node)
    if number > MAX_INT:
        raise BadValue(f"too large: at most {MAX_INT:,} (2**63 - 1), got {shown(node.value)}")
    if number != number.to_integral_value():
        raise BadValue(f"expected a positive integer, got {shown(node.value)}")
    if number <= 0:
        raise BadValue(f"must be a positive integer, got {shown(node.value)}")
    return int(number)


def real_in(low: float, high: float, low_open: bool = False, high_open: bool = False) -> Callable[[Node], float]:
    def convert(node: Node) -> float:
        value = float(to_decimal(node))
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if not isfinite(value) or below or above:
            bounds = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise BadValue(f"must be within {bounds}, got {shown(node.value)}")
        return value
    return convert


def percentage(node: Node) -> float:
    """An accuracy in percent, 0 to 100: ``78.03``, ``'78.03'`` or ``78.03%``."""
    scalar = to_scalar(node)
    raw = str(scalar.value).strip()
    if raw.endswith("%"):
        raw = raw[:-1].strip()
    refuse_yaml_1_1(raw)
    try:
        value = float(Decimal(raw)) if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", raw) else None
    except InvalidOperation:  # pragma: no cover
        value = None
    if value is None or scalar.tag not in (_INT, _FLOAT, _STR):
        raise BadValue(f"expected a percentage, got {shown(scalar.value)}")
    if not 0 <= value <= 100:
        raise BadValue(f"an accuracy must be within 0-100 %, got {shown(scalar.value)}")
    return value


def finite_number(node: Node) -> float:
    value = float(to_decimal(node))
    if not isfinite(value):
        raise BadValue(f"expected a finite number, got {shown(node.value)}")
    return value


_INF = float("inf")
CONVERTERS: dict[str, Callable[[Node], Any]] = {
    **dict.fromkeys(("FLOPs", "Parameters", "File Size", "Epochs", "Batch Size", "Layers", "Image Size"),
                    positive_int),
    "LR": real_in(0, _INF, low_open=True, high_open=True),
    "Weight Decay": real_in(0, _INF, high_open=True),
    "Momentum": real_in(0, 1, high_open=True),
    "Dropout": real_in(0, 1, high_open=True),
    "Crop Pct": real_in(0, 1, low_open=True),
}
LIST_FIELDS = ("Training Data", "Training Techniques", "Architecture", "Tasks")
TEXT_FIELDS = ("Training Resources", "Training Time", "ID", "Interpolation")


def plain(node: Node) -> Any:
    """An unknown field's value as plain Python data (strings, lists, dicts)."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, MappingNode):
        return {str(k.value): plain(v) for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [plain(v) for v in node.value]
    if node.tag == _INT:
        try:
            return int(node.value)
        except ValueError:
            return node.value
    if node.tag == _FLOAT:
        try:
            return float(node.value)
        except ValueError:
            return node.value
    return None if node.tag == NULL_TAG else str(node.value)
