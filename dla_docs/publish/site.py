"""Publishing generated pages: write them into a staging folder, build the site there with
MkDocs (or Zensical), and swap both folders into place through :mod:`dla_docs.publish.journal`
(the build lock, the staging folder and the journaled, all-or-nothing swaps; what a killed
build leaves behind is described there).

Nothing under ``docs/`` or ``site/`` changes unless every page was written and (with a site)
``mkdocs build --strict`` succeeded.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from dla_docs.config import Settings
from dla_docs.errors import DlaDocsError, InputError, Location, OutputError
from dla_docs.publish import journal, uptodate
from dla_docs.publish.journal import Swap, cause, relative_output_path
from dla_docs.store import SiteShelf

MKDOCS_CONFIG = "mkdocs.yml"


class SiteBuildError(DlaDocsError):
    """``mkdocs build --strict`` failed; the message carries its warnings."""


def write_tree(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (relative POSIX path -> bytes) under the empty ``folder``."""
    for name in sorted(files):
        target = folder.joinpath(*relative_output_path(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])




def _source_date_epoch(root: Path) -> str:
    """A fixed build date for reproducible sites: the environment's, else HEAD's commit time."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return out if out.isdigit() else "0"
    except (OSError, subprocess.SubprocessError):
        return "0"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _TolerantLoader(yaml.SafeLoader):
    """Reads mkdocs.yml's plain keys, ignoring its ``!ENV``/``!!python/name`` tags."""


_TolerantLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def _mkdocs_dirs(config_file: Path) -> tuple[str, str]:
    """The docs_dir and site_dir that mkdocs.yml names (its defaults when silent)."""
    shown = Path(MKDOCS_CONFIG)
    try:
        data = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_TolerantLoader) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
        raise InputError(where, "", f"invalid YAML in the MkDocs configuration: {exc.problem or exc}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(shown, "", f"cannot read the MkDocs configuration ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(config_file, "", "the MkDocs configuration is not a mapping")
    return str(data.get("docs_dir", "docs")), str(data.get("site_dir", "site"))


def build_mkdocs(config_file: Path, docs_dir: Path, site_dir: Path, root: Path) -> None:
    """Run ``mkdocs build --strict`` from ``config_file`` with the given folders."""
    from mkdocs.exceptions import MkDocsException

    from dla_docs.publish.mkdocs_adapter import MkDocsVersionError, build_site

    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = _source_date_epoch(root)
    try:
        build_site(config_file, docs_dir, site_dir)
    except MkDocsVersionError as exc:
        raise SiteBuildError(f"{config_file}: {exc}") from None
    except (MkDocsException, SystemExit) as exc:
        detail = "; ".join(dict.fromkeys(collect.messages)) or str(exc)
        raise SiteBuildError(f"{config_file}: mkdocs build --strict failed: {detail}") from None
    finally:
        logger.removeHandler(collect)
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


@dataclass(frozen=True)
class Published:
    """What a publish changed, for the closing report."""

    docs_files: int
    site_built: bool
    up_to_date: bool = False  # nothing written: docs/ and site/ already were what this build makes


def check_mkdocs_config(settings: Settings) -> Path:
    config_file = settings.root / MKDOCS_CONFIG
    if not config_file.is_file():
        raise InputError(config_file, "", "not found: the site needs an mkdocs.yml in the project folder")
    docs, site = _mkdocs_dirs(config_file)
    text = config_file.read_text(encoding="utf-8")
    for key, named, expected in (("docs_dir", docs, settings.docs_dir), ("site_dir", site, settings.site_dir)):
        if (settings.root / named).resolve() != expected:
            line = next((i for i, row in enumerate(text.splitlines(), 1) if row.startswith(f"{key}:")), 0)
            raise InputError(Location(MKDOCS_CONFIG, line), key, f"is {named!r} but [tool.dla-docs] says "
                             f"{expected.relative_to(settings.root).as_posix()!r}; make them agree")
    return config_file


BUILDERS = ("mkdocs", "zensical")


def _stage(settings: Settings, staging: Path, config_file: Path, files: Mapping[str, bytes],
           site: bool, builder: str = "mkdocs") -> list[Swap]:
    """Write the pages (and build the site) in ``staging``; the swaps that publish them."""
    staged_docs = staging / settings.docs_dir.relative_to(settings.root)
    staged_site = staging / settings.site_dir.relative_to(settings.root)
    try:
        staged_docs.mkdir(parents=True)
        write_tree(staged_docs, files)
    except OSError as exc:
        raise OutputError(f"{settings.docs_dir}: cannot write the generated pages ({cause(exc)})") from None
    if not site:
        return [Swap(staged_docs, settings.docs_dir)]
    try:
        staged_config = staging / MKDOCS_CONFIG
        shutil.copyfile(config_file, staged_config)
        if builder == "zensical":
            from dla_docs.publish.zensical import build_zensical

            build_zensical(staged_config, _source_date_epoch(settings.root))
        else:
            build_mkdocs(staged_config, staged_docs, staged_site, settings.root)
    except OSError as exc:  # mkdocs lets its own write errors through unwrapped
        raise OutputError(f"{settings.site_dir}: cannot build the site ({cause(exc)})") from None
    return [Swap(staged_docs, settings.docs_dir), Swap(staged_site, settings.site_dir)]


def publish(settings: Settings, files: Mapping[str, bytes], site: bool = True, builder: str = "mkdocs",
            stamps: SiteShelf | None = None) -> Published:
    """Replace ``docs/`` with ``files`` and rebuild ``site/``, all or nothing.

    The caller holds :func:`~dla_docs.publish.journal.build_lock`. Nothing under ``docs/`` or ``site/`` changes unless
    every file was written and (with ``site``) the strict build succeeded. ``builder`` is
    ``mkdocs`` (mkdocs-material) or ``zensical``; both read the same ``mkdocs.yml``. With
    ``stamps``, a site that is already the build of these inputs is left as it is
    (:mod:`dla_docs.publish.uptodate`), and a new build leaves its stamp there.
    """
    if builder not in BUILDERS:
        raise ValueError(f"unknown site builder {builder!r}")
    root = settings.root
    config_file = check_mkdocs_config(settings)
    inputs = None
    if site and stamps is not None:
        inputs = uptodate.inputs_digest(config_file, files, builder, _source_date_epoch(root))
        if inputs and uptodate.is_current(stamps, inputs, settings.docs_dir, settings.site_dir, files):
            return Published(len(files), False, up_to_date=True)
    with journal.staging_folder(root) as staging:
        swaps = _stage(settings, staging, config_file, files, site, builder)
        stamp = uptodate.stamp(inputs, staging / settings.site_dir.relative_to(root)) if inputs else None
        journal.commit(root, staging, swaps)
    if stamp is not None:
        try:
            stamps.put(stamp)
        except OSError as exc:  # the site is published; the next build just rebuilds it
            logging.getLogger(__name__).warning("could not record the site build in the cache: %s", exc)
    return Published(len(files), site)
