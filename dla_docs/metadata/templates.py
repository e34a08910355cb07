"""Read template files: bounded UTF-8 reads, the block found, the index parsed."""


from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

from dla_docs.errors import InputError, Location
from dla_docs.metadata.block import find_block
from dla_docs.metadata.reader import parse_index
from dla_docs.metadata.schema import ModelIndexError, Problem, Template

# -- reading a template file -----------------------------------------------------------------

def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


MAX_TEMPLATE_BYTES = 1024 * 1024  # the real template is ~16 kB; a larger one is a mistake or an attack


def read_text(path: Path, display: str) -> str:
    """The file decoded from UTF-8 with its line endings kept as they are.

    Files over :data:`MAX_TEMPLATE_BYTES` are refused before they are read: the reader
    keeps every node with its place, so a huge file would cost memory and minutes.
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device would block or never end
            raise InputError(Location(display), "file", "not a regular file")
        with path.open("rb") as file:
            data = file.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as exc:
        raise InputError(Location(display), "file", f"cannot read the template: {exc.strerror or exc}") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise InputError(Location(display), "file", f"larger than {MAX_TEMPLATE_BYTES // (1024 * 1024)} MiB; "
                         "a model-index template is a few kilobytes of text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(Location(display, line, column), "encoding",
                         f"not UTF-8 text ({exc.reason}: byte 0x{data[exc.start]:02x})") from None


def read_template(path: Path, root: Path | None = None) -> Template:
    """Read and validate the template at ``path``.

    With ``root``, a path that resolves outside it is refused and messages show the path
    relative to it. Raises :class:`ModelIndexError` listing every problem found.
    """
    if root is not None:
        resolved, base = path.resolve(), root.resolve()
        if resolved != base and base not in resolved.parents:
            raise InputError(Location(str(path)), "file", f"path points outside the project folder {base}")
    display = _display(path, root)
    text = read_text(path, display)
    return parse_template(text, path, display)


def parse_template(text: str, path: Path, display: str | None = None) -> Template:
    """:func:`read_template` on text already read (``--fix`` re-checks its result this way)."""
    display = display or str(path)
    comment_start, body_start, body_end, comment_end = find_block(text, display)
    index = parse_index(text, body_start, body_end, path, display)
    return Template(path, display, text, text[:comment_start], text[comment_end:], body_start, body_end, index)


def read_templates(paths: Sequence[Path], root: Path | None = None) -> list[Template]:
    """Read every template, raising one :class:`ModelIndexError` with all their problems."""
    templates, problems = [], []
    for path in paths:
        try:
            templates.append(read_template(path, root))
        except ModelIndexError as exc:
            problems.extend(exc.problems)
        except InputError as exc:
            problems.append(Problem(exc.location, exc.field, exc.message))
    if problems:
        raise ModelIndexError(problems)
    return templates
