"""The errors dla-docs reports to a user instead of a traceback.

Every error a user can cause (bad input, a missing tool, a busy output folder) is one of
these; the CLI prints its message on one line and exits with its code. Anything else is a
bug in dla-docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\n``, ``\\x1b``).

    Messages quote values and keys from input files; a newline in one would split the
    message, and an escape sequence would rewrite the reader's terminal or CI log.
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


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
