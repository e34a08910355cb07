"""Where a person would fix a broken model-index block: diagnostics that read raw text.

The YAML parser reports errors where it gives up, which for a missing quote can be dozens
of lines late, and cannot say which key a broken line belongs to. These helpers read the
text itself (tokens, indentation, brackets), so they work on documents the parser refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dla_docs.metadata.values import canonical_key


def runaway_quote(yaml: str, mark: Any) -> tuple[Any, Any] | None:
    """Start and end marks of the first quoted value spanning lines before ``mark``, if any.

    A model-index never spreads a quoted value over lines; one that does swallowed the
    lines after a missing closing quote.
    """
    if mark is None:
        return None
    try:
        for token in YAML(typ="rt").scan(yaml):
            if (token.start_mark.line, token.start_mark.column) >= (mark.line, mark.column):
                break
            if getattr(token, "style", None) in ("'", '"') and token.end_mark.line > token.start_mark.line:
                return token.start_mark, token.end_mark
    except YAMLError:
        pass
    return None


_ITEM = re.compile(r"-(?:[ \t]+|$)")
_KEY = re.compile(r"""(?P<key>"[^"]*"|'[^']*'|[^\s#'"{\[][^:#]*?)[ \t]*:(?:[ \t]+(?P<value>.*)|$)""")


@dataclass
class _Level:
    """One open level while tracing the key path of a (possibly broken) YAML line."""

    column: int
    key: str = ""        # a mapping key, or "" for a list item
    leaf: bool = False   # a key with its value on its own line: nothing can nest under it
    index: int = 0       # a list item's position
    label: str = ""      # a list item's Name, when written
    items: int = 0       # list items seen under this level so far

    def __str__(self) -> str:
        if self.key:
            return f".{self.key}"
        return f"[{self.index}]" + (f" ({self.label})" if self.label else "")


def key_path(yaml: str, target: int) -> str:
    """The key path (``Models[3] (dla34).Metadata.FLOPs``) written at 0-based line ``target``.

    Reads indentation only, so it works on a document the parser rejected: keys and ``- ``
    items open levels at their column; a key closes every level at or right of its column,
    an item every level right of it and the previous item at its column (an item keeps the
    key it hangs under at the same column). Tabs count as 8 columns. ``""`` when the line
    holds no key and sits under none.
    """
    stack: list[_Level] = []
    root = _Level(-1)
    for number, raw in enumerate(yaml.split("\n")[:target + 1]):
        line = raw.rstrip("\r").expandtabs(8)
        content = line.lstrip(" ")
        if number != target and (not content or content.startswith("#")):
            continue
        column = len(line) - len(content)
        while stack and stack[-1].leaf:
            stack.pop()
        item = _ITEM.match(content)
        while item:
            while stack and (stack[-1].column > column or (stack[-1].column == column and not stack[-1].key)):
                stack.pop()
            parent = stack[-1] if stack else root
            stack.append(_Level(column, index=parent.items))
            parent.items += 1
            column += item.end()
            content = content[item.end():]
            item = _ITEM.match(content)
        key = _KEY.match(content)
        if key:
            while stack and stack[-1].column >= column:
                stack.pop()
            name = " ".join(key.group("key").strip("'\"").split())
            value = (key.group("value") or "").strip().strip("'\"")
            if stack and not stack[-1].key and canonical_key(name) == "name" and value:
                stack[-1].label = value
            stack.append(_Level(column, key=name, leaf=bool(value) and number != target))
    path = "".join(str(level) for level in stack)
    return path[1:] if path.startswith(".") else path


MAX_FLOW_DEPTH = 64  # a model index nests about 6 deep; the YAML scanner is quadratic in this depth


def too_deep(text: str, start: int, end: int) -> int | None:
    """Offset where ``[``/``{`` nesting first exceeds :data:`MAX_FLOW_DEPTH`, or ``None``.

    Checked before parsing: ruamel.yaml takes seconds for a few thousand nested brackets.
    Approximate on purpose (a quote opens only at the start of a token, a comment only
    after a space, and both end with the line), which can only under-count.
    """
    depth, quote, comment, previous = 0, "", False, "\n"
    for offset in range(start, end):
        char = text[offset]
        if char == "\n":
            quote, comment = "", False
        elif comment:
            pass
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"" and previous in " \t\n[{,:":
            quote = char
        elif char == "#" and previous in " \t\n":
            comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return offset
        elif char in "]}":
            depth = max(0, depth - 1)
        previous = char
    return None
