"""Find the model-index block (the YAML inside an HTML comment) in a Markdown template."""


from __future__ import annotations

import re

from dla_docs.errors import Location
from dla_docs.metadata.schema import ModelIndexError, Problem

# -- finding the block -----------------------------------------------------------------------

_COMMENT = re.compile(r"<!--(.*?)(?:-->|\Z)", re.S)
_INDEX_KEY = re.compile(r"^[ \t]*models[ \t]*:", re.I | re.M)
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})", re.M)


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of fenced code blocks, where ``<!--`` is text, not a comment."""
    ranges, opened, marker = [], -1, ""
    for match in _FENCE.finditer(text):
        fence = match.group(1)
        if opened < 0:
            opened, marker = match.start(), fence
        elif fence[0] == marker[0] and len(fence) >= len(marker):
            ranges.append((opened, match.end()))
            opened = -1
    if opened >= 0:
        ranges.append((opened, len(text)))
    return ranges


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def find_block(text: str, display: str) -> tuple[int, int, int, int]:
    """``(comment_start, body_start, body_end, comment_end)`` of the model-index comment."""
    fenced = _fenced_ranges(text)
    found = []
    for match in _COMMENT.finditer(text):
        if any(a <= match.start() < b for a, b in fenced):
            continue
        if _INDEX_KEY.search(match.group(1)):
            found.append(match)
    if not found:
        raise ModelIndexError([Problem(Location(display), "model-index", "no model-index block: expected an "
                                       "HTML comment (<!-- ... -->) holding 'Models:'")])
    if len(found) > 1:
        line, col = _line_col(text, found[1].start())
        raise ModelIndexError([Problem(Location(display, line, col), "model-index",
                                       "a second model-index block; a template holds exactly one")])
    match = found[0]
    if not match.group(0).endswith("-->"):
        line, col = _line_col(text, match.start())
        raise ModelIndexError([Problem(Location(display, line, col), "model-index",
                                       "the model-index comment opened here is never closed with '-->'")])
    return match.start(), match.start(1), match.end(1), match.end()
