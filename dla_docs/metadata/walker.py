"""The YAML walker: typed, located access to composed nodes, collecting every problem."""


from __future__ import annotations

from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dla_docs.errors import Location
from dla_docs.metadata.block import _line_col
from dla_docs.metadata.confusables import look_alike, non_ascii
from dla_docs.metadata.diagnostics import (
    key_path,
)
from dla_docs.metadata.schema import (
    Located,
    Problem,
)
from dla_docs.metadata.values import (
    ALLOWED_TAGS,
    NULL_TAG,
    canonical_key,
    kind_of,
)

# -- reading the YAML ------------------------------------------------------------------------

class Abort(Exception):
    """The document cannot be walked further (a tag or an alias); problems already recorded."""


class Walker:
    """Walks the composed node tree, normalising values and collecting every problem."""

    def __init__(self, text: str, body_start: int, display: str) -> None:
        self.text = text
        self.display = display
        self.problems: list[Problem] = []
        line0, col0 = _line_col(text, body_start)
        self.line0, self.col0 = line0 - 1, col0 - 1
        self.seen: set[int] = set()
        self.body_start = body_start

    def path_at(self, node: Node) -> str:
        """The key path written at ``node``'s line, for problems found before the walk."""
        return key_path(self.text[self.body_start:], node.start_mark.line) or "model-index"

    # positions
    def position(self, mark: Any) -> tuple[int, int]:
        line = self.line0 + mark.line + 1
        column = (mark.column + (self.col0 if mark.line == 0 else 0)) + 1
        return line, column

    def offset(self, mark: Any) -> int:
        return self.body_start + mark.index  # the parser's own character count: exact whatever the line ends

    def location(self, node: Node) -> Location:
        return Location(self.display, *self.position(node.start_mark))

    def located(self, node: Node, value: Any, key: Node | None = None) -> Located:
        line, column = self.position(node.start_mark)
        style = node.style if isinstance(node, ScalarNode) and node.style in ("'", '"') else None
        key_col = self.position(key.start_mark)[1] if key is not None else 0
        return Located(value, line, column, self.offset(node.start_mark), self.offset(node.end_mark), style,
                       key.value if key is not None else "", key_col)

    def problem(self, node: Node, where: str, message: str) -> None:
        self.problems.append(Problem(self.location(node), where, message))

    # safety
    def check_safe(self, node: Node) -> None:
        """Refuse explicit tags, anchors and aliases anywhere in the document."""
        stack = [node]
        while stack:
            current = stack.pop()
            if id(current) in self.seen:
                self.problem(current, self.path_at(current), "YAML aliases are not allowed in a model-index block")
                raise Abort
            self.seen.add(id(current))
            start = self.offset(current.start_mark)
            if self.text.startswith("!", start) or current.tag not in ALLOWED_TAGS:
                tag = self.text[start:].split(None, 1)[0] if self.text.startswith("!", start) else current.tag
                self.problem(current, self.path_at(current),
                             f"YAML tag {tag!r} refused: a model-index block holds plain data only")
                raise Abort
            if getattr(current, "anchor", None):
                self.problem(current, self.path_at(current), "YAML anchors are not allowed in a model-index block")
                raise Abort
            if isinstance(current, MappingNode):
                for key, value in current.value:
                    stack.extend((value, key))
            elif isinstance(current, SequenceNode):
                stack.extend(reversed(current.value))

    # structure
    def mapping(self, node: Node, where: str, table: dict[str, str], *, unknown: str = "keep",
                misplaced: dict[str, str] | None = None, look_alikes: str = "error") -> dict[str, tuple[Node, Node]]:
        """Keys of a mapping node by canonical name; duplicates and unknown keys reported.

        ``unknown="keep"`` keeps unrecognised keys under their written spelling;
        ``unknown="error"`` reports them. ``misplaced`` maps canonical keys that belong at
        another level (a sign of lost indentation) to a hint. A key that imitates one of
        ``table``'s with look-alike letters (``Νame`` with a Greek capital nu: same Unicode
        skeleton) is reported with "did you mean" (``look_alikes="error"``), or kept under its
        spelling for the checks to report as drift (``"keep"``).
        """
        if not isinstance(node, MappingNode):
            self.problem(node, where or "model-index", f"expected a mapping, got {kind_of(node)}")
            return {}
        result: dict[str, tuple[Node, Node]] = {}
        first_line: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or not isinstance(key.value, str):
                self.problem(key, where, "keys must be plain strings")
                continue
            canon = canonical_key(key.value)
            name = table.get(canon)
            imitated = look_alike(key.value, list(table.values())) if name is None else None
            if imitated is not None and look_alikes == "error":
                self.problem(key, _join(where, key.value), f"written with {non_ascii(key.value)}, a look-alike of a "
                             f"Latin letter, so it is not the key it looks like; did you mean {imitated!r}?")
                continue
            if name is None:
                if misplaced and canon in misplaced:
                    self.problem(key, _join(where, key.value), misplaced[canon])
                    continue
                if unknown == "error":
                    self.problem(key, _join(where, key.value),
                                 f"unknown key; expected one of: {', '.join(table.values())}")
                    continue
                name = key.value
            if name in result:
                self.problem(key, _join(where, name), f"duplicate key (first written at line {first_line[name]})")
                continue
            result[name] = (key, value)
            first_line[name] = self.position(key.start_mark)[0]
        return result

    def sequence(self, node: Node, where: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.tag == NULL_TAG:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, where, f"expected a list, got {kind_of(node)}")
            return []
        return list(node.value)

    def text_value(self, node: Node, where: str, *, required: bool = False) -> str | None:
        """A scalar as text: ``''`` or ``null`` allowed unless ``required``."""
        if not isinstance(node, ScalarNode):
            self.problem(node, where, f"expected text, got {kind_of(node)}")
            return None
        value = "" if node.tag == NULL_TAG else str(node.value)
        if required and not value.strip():
            self.problem(node, where, "must not be empty")
            return None
        return value


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
