"""Whether ``site/`` is already what a build would make: a warm build skips an unchanged site.

A site build (mkdocs or Zensical) is a pure function of its inputs: the generated pages, the
``mkdocs.yml`` beside them, the build date (``SOURCE_DATE_EPOCH``) and the versions of the
builder and its plugins. After each build a *stamp* records a digest of those inputs and a
manifest of the site it produced (every file's SHA-256). A later build whose inputs have
the same digest, whose ``docs/`` holds exactly the pages it would write, and whose ``site/``
still matches the manifest byte for byte has nothing to do.

Any doubt means a rebuild: a configuration that can read things outside the pages
(``!ENV`` tags, ``hooks``, a theme ``custom_dir``), an edited, added or removed file in either
folder, another builder or another version of any package in :data:`BUILDER_PACKAGES`. The
stamp is kept in the store (:class:`dla_docs.store.SiteShelf`, sealed, never read in CI), so
``--no-cache`` also rebuilds the site.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from dla_docs.fs import files_under, irregular_entries
from dla_docs.store import SiteShelf

# The packages whose version can change what each builder writes.
BUILDER_PACKAGES = {
    "mkdocs": ("mkdocs", "mkdocs-material", "mkdocs-material-extensions", "pymdown-extensions", "markdown",
               "pygments", "jinja2", "babel", "paginate", "backrefs"),
    "zensical": ("zensical", "pymdown-extensions", "markdown", "pygments"),
}
# mkdocs.yml features that make the site depend on more than the pages and the file itself.
_OPEN_INPUTS = ("!ENV", "!relative", "hooks:", "custom_dir:", "!!python")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def inputs_digest(config_file: Path, files: Mapping[str, bytes], builder: str, epoch: str) -> str | None:
    """The digest of everything a site build reads, or ``None`` when that cannot be known."""
    config = config_file.read_bytes()
    if any(marker.encode() in config for marker in _OPEN_INPUTS):
        return None
    digest = hashlib.sha256()
    for part in (builder, sys.version, epoch, *(f"{p}={_version(p)}" for p in BUILDER_PACKAGES[builder])):
        digest.update(part.encode() + b"\0")
    digest.update(hashlib.sha256(config).digest())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def manifest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative POSIX path) with the SHA-256 of its bytes."""
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files_under(folder).items()}


def _holds(folder: Path, files: Mapping[str, bytes]) -> bool:
    on_disk = files_under(folder)
    return not irregular_entries(folder) and on_disk.keys() == files.keys() and all(on_disk[n].read_bytes() == files[n] for n in files)


def is_current(stamps: SiteShelf, inputs: str, docs_dir: Path, site_dir: Path, files: Mapping[str, bytes]) -> bool:
    """Whether ``docs_dir`` holds exactly ``files`` and ``site_dir`` is the build of ``inputs``."""
    stamp = stamps.get()
    if not stamp or stamp.get("inputs") != inputs or not site_dir.is_dir():
        return False
    try:
        return _holds(docs_dir, files) and manifest(site_dir) == stamp.get("site")
    except OSError:
        return False


def stamp(inputs: str, site_dir: Path) -> dict:
    """The stamp of a site just built from ``inputs``."""
    return {"inputs": inputs, "site": manifest(site_dir)}
