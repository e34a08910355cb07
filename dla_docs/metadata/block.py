"""Find the model-index block (the YAML inside an HTML comment) in a Markdown template.

The block is the one HTML comment, outside fenced code and inline code spans, whose text
holds a ``Models:`` key: at the start of a line, right after ``<!--``, quoted
(``"Models":``) or in JSON flow style (``{"Models": [...]}``). Lines may end in ``\\n``,
``\\r\\n`` or a lone ``\\r``. HTML comments do not nest, so a ``-->`` written inside a value
closes the comment there; when the rest of the block follows up to a later ``-->``, that
early close is named instead of a cascade of errors about what is left.
"""


from __future__ import annotations

import re

from dla_docs.errors import Location
from dla_docs.metadata.schema import ModelIndexError, Problem

# -- finding the block -----------------------------------------------------------------------

_COMMENT = re.compile(r"<!--(.*?)(?:-->|\Z)", re.S)
_INDEX_KEY = re.compile(r"(?:^|(?<=<!--)|[{,])[ \t]*([\"']?)models\1[ \t]*:", re.I | re.M)
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})", re.M)
_TICKS = re.compile(r"`+")
_YAML_LINE = re.compile(r"^(?:[ \t]+|- )[\"']?[A-Za-z][\w ]*[\"']?:(?:[ \t]|$)", re.M)  # an indented key
_BREAK = re.compile(r"\r\n|\r|\n")  # a line break, as YAML counts them


def _scannable(text: str) -> str:
    """``text`` with every ``\\r`` turned into ``\\n``: same length, so ``^`` finds every line start."""
    return text.replace("\r", "\n")


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


def _code_spans(text: str, fenced: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inline code spans (a run of backticks to the next run of the same length, within a
    paragraph) outside fenced blocks: ``<!-- ... -->`` written there is shown, not a comment."""
    spans = []
    position = 0
    while True:
        opening = _TICKS.search(text, position)
        if opening is None:
            return spans
        if any(a <= opening.start() < b for a, b in fenced):
            position = opening.end()
            continue
        paragraph_end = text.find("\n\n", opening.end())
        limit = len(text) if paragraph_end < 0 else paragraph_end
        closing = next((m for m in _TICKS.finditer(text, opening.end(), limit)
                        if len(m.group()) == len(opening.group())), None)
        if closing is None:
            position = opening.end()
            continue
        spans.append((opening.start(), closing.end()))
        position = closing.end()


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``; ``\\r\\n``, ``\\r`` and ``\\n`` each end a line."""
    line, start = 1, 0
    for match in _BREAK.finditer(text, 0, offset):
        if match.end() > offset:
            break
        line, start = line + 1, match.end()
    return line, offset - start + 1


def _inside(offset: int, ranges: list[tuple[int, int]]) -> bool:
    return any(a <= offset < b for a, b in ranges)


def find_block(text: str, display: str) -> tuple[int, int, int, int]:
    """``(comment_start, body_start, body_end, comment_end)`` of the model-index comment.

    ``body_start`` skips the blanks after ``<!--`` on its line, so a block written as
    ``<!-- Models:`` reads like one whose ``Models:`` starts the next line.
    """
    scan = _scannable(text)
    fenced = _fenced_ranges(scan)
    shown_code = fenced + _code_spans(scan, fenced)
    found = []
    for match in _COMMENT.finditer(scan):
        if _inside(match.start(), shown_code):
            continue
        early = _early_close(scan, match, shown_code)
        reach = match.end(1) if early is None else scan.find("-->", match.end())
        if _INDEX_KEY.search(scan, match.start(1), reach):
            found.append((match, early))
    if not found:
        raise ModelIndexError([Problem(Location(display), "model-index", "no model-index block: expected an "
                                       "HTML comment (<!-- ... -->) holding 'Models:'")])
    match, early = found[0]
    if early is not None:
        line, col = _line_col(text, early)
        end_line, _ = _line_col(text, scan.find("-->", match.end()))
        raise ModelIndexError([Problem(Location(display, line, col), "model-index",
                                       f"'-->' inside the block closes the HTML comment here, before its end "
                                       f"at line {end_line}; a value cannot hold '-->' (write '-- >' or "
                                       "'--&gt;')")])
    if len(found) > 1:
        line, col = _line_col(text, found[1][0].start())
        raise ModelIndexError([Problem(Location(display, line, col), "model-index",
                                       "a second model-index block; a template holds exactly one")])
    if not match.group(0).endswith("-->"):
        line, col = _line_col(text, match.start())
        raise ModelIndexError([Problem(Location(display, line, col), "model-index",
                                       "the model-index comment opened here is never closed with '-->'")])
    body_start = match.start(1)
    while body_start < match.end(1) and text[body_start] in " \t":
        body_start += 1
    return match.start(), body_start, match.end(1), match.end()


def _early_close(scan: str, match: re.Match[str], shown_code: list[tuple[int, int]]) -> int | None:
    """The offset of a ``-->`` that closed the block early, or ``None``.

    Comments do not nest, so after the real end of a block no ``-->`` can follow before the
    next ``<!--`` opens; one that does (outside code) means the block went on past the first
    ``-->``, which a value held.
    """
    if not match.group(0).endswith("-->"):
        return None
    end = match.end() - 3
    line_start = scan.rfind("\n", 0, end) + 1
    line_end = scan.find("\n", match.end())
    rest = scan[match.end():len(scan) if line_end < 0 else line_end]
    own_line = not scan[line_start:end].strip() and not rest.strip()  # how a block ends
    position = match.end()
    while True:
        close = scan.find("-->", position)
        if close < 0:
            return None
        opener = scan.find("<!--", position)
        if 0 <= opener < close:
            return None
        if not _inside(close, shown_code):
            # a stray arrow in the prose after a block that ended on its own line is prose;
            # YAML keys between the two closes say the block went on
            if own_line and not _YAML_LINE.search(scan, match.end(), close):
                return None
            return end
        position = close + 3
