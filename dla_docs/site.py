"""Publishing generated pages: stage, build the site beside them, swap both in atomically.

A build never writes into ``docs/`` or ``site/`` directly. The pages are written to a
staging folder inside the project, ``mkdocs build --strict`` runs there, and only when both
succeed is each folder exchanged with its staged twin in one ``renameat2(RENAME_EXCHANGE)``
call. A failed, interrupted or killed build therefore leaves each of ``docs/`` and ``site/``
wholly as it was or wholly new. One build at a time holds the project's lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml
from filelock import FileLock, Timeout

from .config import Settings
from .errors import DlaDocsError, InputError, OutputError

LOCK_NAME = ".dla-docs.lock"
STAGING_PREFIX = ".dla-docs-staging-"
MKDOCS_CONFIG = "mkdocs.yml"

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class SiteBuildError(DlaDocsError):
    """``mkdocs build --strict`` failed; the message carries its warnings."""


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold the project's build lock, or fail at once with a message naming the holder."""
    lock = FileLock(str(root / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"{root / LOCK_NAME}: another dla-docs build is running in this project; "
            "wait for it to finish and run this one again"
        ) from None
    except OSError as exc:
        raise OutputError(f"{root / LOCK_NAME}: cannot create the build lock ({exc.strerror})") from None
    try:
        yield
    finally:
        lock.release()


def relative_output_path(name: str) -> PurePosixPath:
    """A generated file's path, refusing anything that could land outside its folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts) or "\\" in name:
        raise OutputError(f"refusing to write generated file {name!r}: not a plain relative path")
    return path


def write_tree(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (relative POSIX path -> bytes) under the empty ``folder``."""
    for name in sorted(files):
        target = folder.joinpath(*relative_output_path(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` keyed by relative POSIX path (``{}`` if absent)."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths; ``False`` where the kernel cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def swap_in(new: Path, target: Path) -> None:
    """Make ``new`` appear at ``target`` in one step; the old content ends up at ``new``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        new.rename(target)
        new.mkdir()  # keep the caller's view: ``new`` now holds the (empty) old content
        return
    if not _exchange(new, target):  # fallback: two renames, a moment without ``target``
        parked = new.with_name(new.name + ".old")
        target.rename(parked)
        new.rename(target)
        parked.rename(new)


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
    try:
        data = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_TolerantLoader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(config_file, "", f"cannot read the MkDocs configuration ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(config_file, "", "the MkDocs configuration is not a mapping")
    return str(data.get("docs_dir", "docs")), str(data.get("site_dir", "site"))


def build_mkdocs(config_file: Path, docs_dir: Path, site_dir: Path, root: Path) -> None:
    """Run ``mkdocs build --strict`` from ``config_file`` with the given folders."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = _source_date_epoch(root)
    try:
        config = load_config(str(config_file), docs_dir=str(docs_dir), site_dir=str(site_dir), strict=True)
        build(config)
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


def _remove_stale_staging(root: Path) -> None:
    for leftover in root.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)


def check_mkdocs_config(settings: Settings) -> Path:
    config_file = settings.root / MKDOCS_CONFIG
    if not config_file.is_file():
        raise InputError(config_file, "", "not found: the site needs an mkdocs.yml in the project folder")
    docs, site = _mkdocs_dirs(config_file)
    for key, named, expected in (("docs_dir", docs, settings.docs_dir), ("site_dir", site, settings.site_dir)):
        if (settings.root / named).resolve() != expected:
            raise InputError(config_file, key, f"is {named!r} but [tool.dla-docs] says "
                             f"{expected.relative_to(settings.root).as_posix()!r}; make them agree")
    return config_file


def publish(settings: Settings, files: Mapping[str, bytes], site: bool = True) -> Published:
    """Replace ``docs/`` with ``files`` and rebuild ``site/``, all or nothing.

    The caller holds :func:`build_lock`. Nothing under ``docs/`` or ``site/`` changes unless
    every file was written and (with ``site``) the strict mkdocs build succeeded.
    """
    root = settings.root
    config_file = check_mkdocs_config(settings)
    _remove_stale_staging(root)
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    except OSError as exc:
        raise OutputError(f"{root}: cannot create a staging folder ({exc.strerror})") from None
    try:
        docs_rel = settings.docs_dir.relative_to(root)
        site_rel = settings.site_dir.relative_to(root)
        staged_docs, staged_site = staging / docs_rel, staging / site_rel
        try:
            staged_docs.mkdir(parents=True)
            write_tree(staged_docs, files)
        except OSError as exc:
            raise OutputError(f"{exc.filename or staging}: cannot write generated pages ({exc.strerror})") from None
        if site:
            staged_config = staging / MKDOCS_CONFIG
            shutil.copyfile(config_file, staged_config)
            build_mkdocs(staged_config, staged_docs, staged_site, root)
        try:
            swap_in(staged_docs, settings.docs_dir)
            if site:
                swap_in(staged_site, settings.site_dir)
        except OSError as exc:
            raise OutputError(f"{exc.filename or root}: cannot replace the output folder ({exc.strerror})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Published(len(files), site)
