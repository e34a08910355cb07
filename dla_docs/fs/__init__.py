"""The project's file-system rules, one helper per idea, in a module per job:

- :mod:`~dla_docs.fs.paths`: :func:`contained` / :func:`inside` (path containment, links
  resolved) and :func:`shown` (how messages name a file);
- :mod:`~dla_docs.fs.listing`: :func:`files_under` and :func:`irregular_entries` (what a
  folder of generated files holds), :func:`kind_of`;
- :mod:`~dla_docs.fs.reading`: :func:`read_bounded` and :func:`decode_utf8` (bounded reads);
- :mod:`~dla_docs.fs.writing`: :func:`write_atomic`, :func:`replace_if_unchanged`,
  :func:`exchange`, :func:`remove_stale_temps` (atomic writes).

Import them from here (``from dla_docs.fs import write_atomic``). Torch-free and import-light:
every stage uses these, and they use no stage.
"""

from dla_docs.fs.listing import files_under, irregular_entries, kind_of
from dla_docs.fs.paths import contained, inside, shown
from dla_docs.fs.reading import decode_utf8, read_bounded
from dla_docs.fs.writing import ChangedOnDisk, exchange, remove_stale_temps, replace_if_unchanged, write_atomic

__all__ = [
    "ChangedOnDisk", "contained", "decode_utf8", "exchange", "files_under", "inside", "irregular_entries", "kind_of",
    "read_bounded", "remove_stale_temps", "replace_if_unchanged", "shown", "write_atomic",
]
