"""Publishing generated pages: stage, build the site beside them, swap both in atomically.

A build never writes into ``docs/`` or ``site/`` directly. The pages are written to a
staging folder inside the project, ``mkdocs build --strict`` runs there, and only when both
succeed is each folder exchanged with its staged twin in one ``renameat2(RENAME_EXCHANGE)``
call. One build at a time holds the project's lock (``flock``: the kernel releases it when
its holder dies, however it dies).

What a build killed at any instant (SIGKILL, a crash of the process) leaves behind:

* Each folder on its own: ``docs/`` is at every instant wholly the previous output or wholly
  the new one, never a mix and never missing; the same holds for ``site/``. This needs a
  filesystem with ``RENAME_EXCHANGE`` (ext4, xfs, btrfs, tmpfs, ...); elsewhere a fallback
  of two renames leaves the folder absent (parked in the staging folder) for the instant
  between them.
* The pair: the two exchanges are two system calls, so a kill between them leaves the new
  ``docs/`` beside the old ``site/``. To repair that, the exchanges are journaled: once
  everything is staged, a journal naming each swap and the (device, inode) identity of
  each staged folder is written into the staging folder (atomically), and only then do
  the exchanges start. The next process to take the build lock (the next ``build``, as
  soon as it has read its settings, before it measures or renders anything, whether or
  not it later succeeds) finds the journal and completes the swaps still pending,
  recognising a done swap by the identity now at the target. So a kill before the journal exists leaves both folders old; a kill after it
  leaves both new once the next build has started; a mixed pair exists only from the
  kill until then.
* A leftover staging folder is removed by the next build; the lock is free at once.
* A failed build (an error, not a kill) changes nothing: if the second exchange fails,
  the first is undone before the error is reported, and the staging folder is removed
  (should the undo fail too, the journal stays and the next build rolls forward).

Not covered: power loss or a kernel crash (nothing is fsynced), and other programs writing
into ``docs/`` or ``site/`` while a build runs.
"""

from __future__ import annotations

import contextlib
import json
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

from dla_docs.config import Settings
from dla_docs.errors import DlaDocsError, InputError, Location, OutputError
from dla_docs.fs import exchange as _exchange
from dla_docs.fs import write_atomic
from dla_docs.publish import uptodate
from dla_docs.store import SiteShelf

LOCK_NAME = ".dla-docs.lock"
STAGING_PREFIX = ".dla-docs-staging-"
MKDOCS_CONFIG = "mkdocs.yml"
JOURNAL = "publish.json"


class SiteBuildError(DlaDocsError):
    """``mkdocs build --strict`` failed; the message carries its warnings."""


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold the project's build lock, or fail at once with a message naming the holder.

    Taking the lock first finishes whatever a killed build left half done (see
    :func:`recover`), so every build starts from a consistent ``docs/`` and ``site/``.
    """
    lock = FileLock(str(root / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"{root / LOCK_NAME}: another dla-docs build is running in this project; "
            "wait for it to finish and run this one again"
        ) from None
    except OSError as exc:
        raise OutputError(f"{root}: cannot take the build lock {LOCK_NAME} ({_cause(exc)})") from None
    try:
        recover(root)
        yield
    finally:
        lock.release()


def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


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


def _identity(path: Path) -> list[int] | None:
    """(device, inode) of ``path``: it travels with the folder through a rename or exchange."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino]


@dataclass(frozen=True)
class Swap:
    """One staged folder to publish: ``staged`` (in the staging folder) goes to ``target``."""

    staged: Path
    target: Path


def write_journal(root: Path, staging: Path, swaps: list[Swap]) -> None:
    """Record the swaps about to happen, atomically, so a killed publish can be completed."""
    entries = [{"staged": s.staged.relative_to(staging).as_posix(), "target": s.target.relative_to(root).as_posix(),
                "identity": _identity(s.staged)} for s in swaps]
    write_atomic(staging / JOURNAL, json.dumps({"swaps": entries}).encode("utf-8"))


def _journaled_swaps(root: Path, staging: Path) -> list[tuple[Swap, list[int]]]:
    """The swaps a journal names with each staged folder's identity (``[]`` without one)."""
    try:
        entries = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))["swaps"]
        return [(Swap(staging.joinpath(*relative_output_path(e["staged"]).parts),
                      root.joinpath(*relative_output_path(e["target"]).parts)), list(e["identity"]))
                for e in entries]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, OutputError) as exc:
        # Written atomically by publish: an unreadable journal was not written by it.
        logging.getLogger(__name__).warning("ignoring unreadable publish journal in %s: %s", staging, exc)
        return []


def roll_forward(root: Path, staging: Path) -> None:
    """Complete the swaps of an interrupted publish; a swap already done is left alone."""
    for swap, identity in _journaled_swaps(root, staging):
        if _identity(swap.target) == identity:
            continue  # this folder was already published
        if _identity(swap.staged) == identity:
            try:
                swap_in(swap.staged, swap.target)
            except OSError as exc:
                raise OutputError(f"{swap.target}: cannot finish the publish that an interrupted build left "
                                  f"in {staging.name} ({_cause(exc)})") from None


def recover(root: Path) -> None:
    """Finish and remove every staging folder a killed build left; the caller holds the lock."""
    for leftover in sorted(root.glob(STAGING_PREFIX + "*")):
        roll_forward(root, leftover)
        shutil.rmtree(leftover, ignore_errors=True)


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
        raise OutputError(f"{settings.docs_dir}: cannot write the generated pages ({_cause(exc)})") from None
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
        raise OutputError(f"{settings.site_dir}: cannot build the site ({_cause(exc)})") from None
    return [Swap(staged_docs, settings.docs_dir), Swap(staged_site, settings.site_dir)]


class _PublishPending(OutputError):
    """A swap failed and the ones before it could not be undone: keep the journal."""


def _undo(done: list[tuple[Swap, bool]]) -> None:
    """Put back what the swaps in ``done`` replaced, last first (``bool``: the target existed)."""
    for swap, existed in reversed(done):
        if existed:
            swap_in(swap.staged, swap.target)
        else:
            swap.staged.rmdir()  # the empty folder swap_in left in its place
            swap.target.rename(swap.staged)


def _swap_all(staging: Path, swaps: list[Swap]) -> None:
    """Publish every staged folder, or undo those already swapped and report why not."""
    done: list[tuple[Swap, bool]] = []
    for swap in swaps:
        existed = swap.target.exists()
        try:
            swap_in(swap.staged, swap.target)
        except OSError as exc:
            message = f"{swap.target}: cannot replace the output folder ({_cause(exc)})"
            try:
                _undo(done)
            except OSError:
                raise _PublishPending(f"{message}; the next build completes the publish left in "
                                      f"{staging}") from None
            raise OutputError(message) from None
        done.append((swap, existed))


def publish(settings: Settings, files: Mapping[str, bytes], site: bool = True, builder: str = "mkdocs",
            stamps: SiteShelf | None = None) -> Published:
    """Replace ``docs/`` with ``files`` and rebuild ``site/``, all or nothing.

    The caller holds :func:`build_lock`. Nothing under ``docs/`` or ``site/`` changes unless
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
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    except OSError as exc:
        raise OutputError(f"{root}: cannot create a staging folder ({_cause(exc)})") from None
    keep = False
    try:
        swaps = _stage(settings, staging, config_file, files, site, builder)
        stamp = uptodate.stamp(inputs, staging / settings.site_dir.relative_to(root)) if inputs else None
        try:
            write_journal(root, staging, swaps)
        except OSError as exc:
            raise OutputError(f"{root}: cannot write the publish journal ({_cause(exc)})") from None
        _swap_all(staging, swaps)
        (staging / JOURNAL).unlink()
    except _PublishPending:
        keep = True  # its journal lets the next build finish what this one could not
        raise
    finally:
        if not keep:
            shutil.rmtree(staging, ignore_errors=True)
    if stamp is not None:
        try:
            stamps.put(stamp)
        except OSError as exc:  # the site is published; the next build just rebuilds it
            logging.getLogger(__name__).warning("could not record the site build in the cache: %s", exc)
    return Published(len(files), site)
