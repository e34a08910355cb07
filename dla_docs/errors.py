"""The errors dla-docs reports to a user instead of a traceback.

Every error a user can cause (bad input, a missing tool, a busy output folder) is one of
these; the CLI prints its message on one line and exits with its code. Anything else is a
bug in dla-docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Control characters, line and paragraph separators, and the invisible format characters that
# can make a log line read differently from what it holds: bidirectional overrides and
# isolates (U+202A-E, U+2066-9, U+200E/F, U+061C) and zero-width ones (U+200B-D, U+2060-4,
# U+FEFF, U+180E, U+00AD).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
                     r"\u2066-\u2069\ufeff]")
MAX_LINE_CHARS = 1000  # a message line; a longer one keeps its head and tail and says how much was cut
_TAIL_CHARS = 200


def one_line(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """``text`` safe to print on one line of a terminal, a CI log or an annotation.

    Every control, bidirectional or zero-width character is shown as an escape (``\\n``,
    ``\\x1b``, ``\\u202e``): messages quote values and keys from input files, and a newline in
    one would split the message, an escape sequence would rewrite the reader's terminal, and
    a right-to-left override would make the line read as something else. Text longer than
    ``limit`` characters keeps its start (where the location is) and its end (the reason),
    with the number of characters cut in between. Every output format goes through here.
    """
    text = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if limit and len(text) > limit:
        head = limit - _TAIL_CHARS
        cut = len(text) - head - _TAIL_CHARS
        text = f"{text[:head]}...[{cut} characters cut]...{text[-_TAIL_CHARS:]}"
    return text


def error_lines(exc: Exception) -> list[str]:
    """The one-line messages for an error a user can cause (an ``OSError`` or ``UnicodeDecodeError``
    that no reader turned into a :class:`DlaDocsError` is still an input or environment problem)."""
    if isinstance(exc, UnicodeDecodeError):
        lines = [f"an input file is not UTF-8 text ({exc.reason} at byte {exc.start})"]
    elif isinstance(exc, OSError):
        lines = [f"{exc.filename if exc.filename is not None else 'dla-docs'}: {exc.strerror or exc}"]
    else:
        lines = str(exc).splitlines() or [type(exc).__name__]
    return [one_line(line) for line in lines]


class DlaDocsError(Exception):
    """Base class: ``str(error)`` is the whole one-line message."""

    exit_code = 2


@dataclass
class Location:
    """Where in an input file a problem is: ``path:line:col`` (1-based; 0 when unknown)."""

    path: Path | str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        text = str(self.path)
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


class InputError(DlaDocsError):
    """An input file (template, configuration, checkpoint) that cannot be used."""

    def __init__(self, location: Location | Path | str, field: str, message: str) -> None:
        self.location = location if isinstance(location, Location) else Location(location)
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return one_line(f"{self.location}:{field} {self.message}")


class ToolMissingError(DlaDocsError):
    """An external program (Graphviz ``dot``) that is not installed."""


class OutputError(DlaDocsError):
    """The output folder cannot be written (read-only, full, locked by another build)."""
