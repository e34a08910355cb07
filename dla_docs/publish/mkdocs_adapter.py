"""The MkDocs names dla-docs uses that MkDocs does not document as an interface, in one place.

- ``mkdocs.commands.build.build(config)``: the function behind ``mkdocs build``. Public path:
  the command line, ``mkdocs build --strict``; it cannot be used here, since it takes no
  ``docs_dir`` (the build reads a staging folder, not the configured one).
- Assigning into ``config.plugins[...]``: inserts the set-aside plugin
  (:mod:`dla_docs.publish.set_aside`) into the loaded configuration, so that mkdocs.yml need not
  list it. Public path: listing the plugin under ``plugins:`` in mkdocs.yml (an entry point).

Chosen by version: on an MkDocs other than :data:`CHECKED_MKDOCS` the build stops with one line
(exit 2) naming both versions, instead of calling an interface that may have changed. This
module imports no dla-docs module; MkDocs is imported when a site is built, never before.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

CHECKED_MKDOCS = "1.6.1"


class MkDocsVersionError(Exception):
    """This MkDocs is not the one the adapter was checked against."""


def installed_mkdocs() -> str:
    try:
        return metadata.version("mkdocs")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build_site(config_file: Path, docs_dir: Path, site_dir: Path, plugins: dict[str, Any]) -> None:
    """``mkdocs build --strict`` of ``config_file`` from ``docs_dir`` into ``site_dir``, with
    ``plugins`` (name -> plugin object) added to those mkdocs.yml lists.

    Raises :class:`MkDocsVersionError` off the checked MkDocs; MkDocs' own exceptions (and its
    ``SystemExit`` on a strict-mode warning) pass through."""
    version = installed_mkdocs()
    if version != CHECKED_MKDOCS:
        raise MkDocsVersionError(f"MkDocs {version} is installed, dla-docs builds with MkDocs {CHECKED_MKDOCS} "
                                 f"(pip install mkdocs=={CHECKED_MKDOCS})")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(config_file), docs_dir=str(docs_dir), site_dir=str(site_dir), strict=True)
    for name, plugin in plugins.items():
        config.plugins[name] = plugin
    build(config)
