"""Generated pages against a fresh rendering: stale, missing and extra files."""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from dla_docs.checks.findings import Finding
from dla_docs.errors import Location
from dla_docs.fs import files_under, irregular_entries

DIFF_LINES = 12  # lines of a stale page's unified diff shown in a finding

def has_pages(docs_dir: Path) -> bool:
    """Whether any generated page exists yet (before the first build there is nothing to check)."""
    return docs_dir.is_dir() and any(files for _, _, files in os.walk(docs_dir))


def _page_diff(name: str, old: bytes, new: bytes) -> tuple[str, ...]:
    try:
        old_text, new_text = old.decode("utf-8"), new.decode("utf-8")
    except UnicodeDecodeError:
        return (f"binary file differs: {len(old)} bytes committed, {len(new)} bytes rendered",)
    lines = difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), f"a/{name}", f"b/{name}", lineterm="", n=1)
    return tuple(line for _, line in zip(range(DIFF_LINES), lines))


def check_pages(docs_dir: Path, rendered: Mapping[str, bytes], display: str | None = None) -> list[Finding]:
    """Stale, missing and extra generated files under ``docs_dir``.

    ``rendered`` maps each generated file's relative POSIX path to the bytes a build would
    write now. ``docs/`` is wholly generated (a build replaces it as a unit), so any other
    file there is an extra one. Nothing is reported while no page has been generated yet.
    """
    irregular = irregular_entries(docs_dir)
    on_disk = {name: path for name, path in files_under(docs_dir).items() if name not in irregular}
    if not on_disk and not irregular:
        return []
    shown = display or docs_dir.as_posix()
    findings = []
    for name in sorted(set(on_disk) | set(rendered) | set(irregular)):
        where = Location(f"{shown}/{name}")
        if name in irregular:
            effect = "publish what it leads to" if irregular[name].startswith("a symbolic link") else "read it"
            findings.append(Finding("extra-page", None, name,
                                    f"is {irregular[name]}, not a generated file (a site builder would {effect}); "
                                    "remove it (a build replaces the folder)", where))
        elif any(name.startswith(f"{other}/") for other in irregular):
            continue  # under a linked folder: reported as the link
        elif name not in on_disk:
            findings.append(Finding("missing-page", None, name, "generated page is missing; rebuild the pages",
                                    where, diff=_page_diff(name, b"", rendered[name])))
        elif name not in rendered:
            findings.append(Finding("extra-page", None, name,
                                    "file is no longer generated; rebuild the pages (which removes it)", where))
        else:
            old = on_disk[name].read_bytes()
            if old != rendered[name]:
                findings.append(Finding("stale-page", None, name, "committed page is stale; rebuild the pages",
                                        where, diff=_page_diff(name, old, rendered[name])))
    return findings


def check_generated_file(path: Path, display: str, rendered: bytes, remedy: str,
                         required: bool = False) -> list[Finding]:
    """One generated file outside ``docs/`` (``CITATION.cff``) against a fresh rendering.

    A missing file is a finding when ``required`` (the project says it publishes one);
    otherwise nothing is reported while it does not exist. A link, FIFO or device in its
    place is a finding: only ``lstat`` is asked before the file is read.
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        if not required:
            return []
        return [Finding("missing-page", None, display, f"generated file is missing; {remedy}", Location(display),
                        diff=_page_diff(display, b"", rendered))]
    if not stat.S_ISREG(mode):
        what = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        return [Finding("extra-page", None, display, f"is {what}, not the generated file; remove it and {remedy}",
                        Location(display))]
    old = path.read_bytes()
    if old == rendered:
        return []
    return [Finding("stale-page", None, display, f"generated file is stale; {remedy}", Location(display),
                    diff=_page_diff(display, old, rendered))]
