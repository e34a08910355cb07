"""Read template files: bounded UTF-8 reads, the block found, the index parsed."""


from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dla_docs.errors import InputError
from dla_docs.fs import decode_utf8, read_bounded, shown
from dla_docs.metadata.block import find_block
from dla_docs.metadata.schema import ModelIndexError, Problem, Template

if TYPE_CHECKING:  # the reader (and ruamel.yaml) is imported when a block is parsed: a warm run parses none
    from dla_docs.metadata.stored import ParsedIndexes

MAX_TEMPLATE_BYTES = 1024 * 1024  # the real template is ~16 kB; a larger one is a mistake or an attack


def read_text(path: Path, display: str) -> str:
    """The file decoded from UTF-8 with its line endings kept as they are.

    Files over :data:`MAX_TEMPLATE_BYTES` are refused before they are read: the reader
    keeps every node with its place, so a huge file would cost memory and minutes.
    """
    return decode_utf8(read_bounded(path, MAX_TEMPLATE_BYTES, display), display)

def read_template(path: Path, root: Path | None = None, parsed: ParsedIndexes | None = None) -> Template:
    """Read and validate the template at ``path``; messages show it relative to ``root``.

    Where a template may lie is decided before: a configured one inside the project
    (:mod:`dla_docs.config`), one named on the command line anywhere, read only
    (:mod:`dla_docs.targets`). Raises :class:`ModelIndexError` listing every problem found.
    With ``parsed``, a block parsed before from the same text is taken from the store.
    """
    display = shown(path, root) if root is not None else str(path)
    text = read_text(path, display)
    return parse_template(text, path, display, parsed)


def parse_template(text: str, path: Path, display: str | None = None, parsed: ParsedIndexes | None = None) -> Template:
    """:func:`read_template` on text already read (``--fix`` re-checks its result this way)."""
    display = display or str(path)
    comment_start, body_start, body_end, comment_end = find_block(text, display)
    index = parsed.get(text, path) if parsed is not None else None
    if index is None:
        from dla_docs.metadata.reader import parse_index

        index = parse_index(text, body_start, body_end, path, display)
        if parsed is not None:
            parsed.remember(text, path, index)
    return Template(path, display, text, text[:comment_start], text[comment_end:], body_start, body_end, index)


def read_templates(paths: Sequence[Path], root: Path | None = None,
                   parsed: ParsedIndexes | None = None) -> list[Template]:
    """Read every template, raising one :class:`ModelIndexError` with all their problems."""
    templates, problems = [], []
    for path in paths:
        try:
            templates.append(read_template(path, root, parsed))
        except ModelIndexError as exc:
            problems.extend(exc.problems)
        except InputError as exc:
            problems.append(Problem(exc.location, exc.field, exc.message))
    if problems:
        raise ModelIndexError(problems)
    return templates
