"""The MkDocs names dla-docs uses that MkDocs does not document as an interface, in one place.

- ``mkdocs.commands.build.build(config)``: the function behind ``mkdocs build``. Public path:
  the command line, ``mkdocs build --strict``; it cannot be used here, since it takes no
  ``docs_dir`` (the build reads a staging folder, not the configured one).

Chosen by version: on an MkDocs other than :data:`CHECKED_MKDOCS` the build stops with one line
(exit 2) naming both versions, instead of calling an interface that may have changed. This
module imports no dla-docs module; MkDocs is imported when a site is built, never before.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

CHECKED_MKDOCS = "1.6.1"


class MkDocsVersionError(Exception):
    """This MkDocs is not the one the adapter was checked against."""


def installed_mkdocs() -> str:
    try:
        return metadata.version("mkdocs")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build_site(config_file: Path, docs_dir: Path, site_dir: Path) -> None:
    """``mkdocs build --strict`` of ``config_file`` from ``docs_dir`` into ``site_dir``.

    Raises :class:`MkDocsVersionError` off the checked MkDocs; MkDocs' own exceptions (and its
    ``SystemExit`` on a strict-mode warning) pass through."""
    version = installed_mkdocs()
    if version != CHECKED_MKDOCS:
        raise MkDocsVersionError(f"MkDocs {version} is installed, dla-docs builds with MkDocs {CHECKED_MKDOCS} "
                                 f"(pip install mkdocs=={CHECKED_MKDOCS})")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    build(load_config(str(config_file), docs_dir=str(docs_dir), site_dir=str(site_dir), strict=True))
