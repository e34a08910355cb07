"""Publishing's safety: the build lock, the staging folder, and journaled swaps into place.

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

Fault injection (the kill and write-error tests): each swap goes through
:func:`dla_docs.fs.exchange`, looked up at call time, and the journal through
:func:`write_journal`, so replacing either one of them (``monkeypatch.setattr``) reaches every
publish; :mod:`dla_docs.publish.site` builds what is staged and calls :func:`commit`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filelock import FileLock, Timeout

from dla_docs import fs
from dla_docs.errors import OutputError
from dla_docs.fs import write_atomic

LOCK_NAME = ".dla-docs.lock"
STAGING_PREFIX = ".dla-docs-staging-"
JOURNAL = "publish.json"


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
        raise OutputError(f"{root}: cannot take the build lock {LOCK_NAME} ({cause(exc)})") from None
    try:
        recover(root)
        yield
    finally:
        lock.release()


def cause(exc: OSError) -> str:
    return exc.strerror or str(exc)


def relative_output_path(name: str) -> PurePosixPath:
    """A generated file's path, refusing anything that could land outside its folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts) or "\\" in name:
        raise OutputError(f"refusing to write generated file {name!r}: not a plain relative path")
    return path


def swap_in(new: Path, target: Path) -> None:
    """Make ``new`` appear at ``target`` in one step; the old content ends up at ``new``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        new.rename(target)
        new.mkdir()  # keep the caller's view: ``new`` now holds the (empty) old content
        return
    if not fs.exchange(new, target):  # fallback: two renames, a moment without ``target``
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
                                  f"in {staging.name} ({cause(exc)})") from None


def recover(root: Path) -> None:
    """Finish and remove every staging folder a killed build left; the caller holds the lock."""
    for leftover in sorted(root.glob(STAGING_PREFIX + "*")):
        roll_forward(root, leftover)
        shutil.rmtree(leftover, ignore_errors=True)


class PublishPending(OutputError):
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
            message = f"{swap.target}: cannot replace the output folder ({cause(exc)})"
            try:
                _undo(done)
            except OSError:
                raise PublishPending(f"{message}; the next build completes the publish left in "
                                      f"{staging}") from None
            raise OutputError(message) from None
        done.append((swap, existed))


@contextlib.contextmanager
def staging_folder(root: Path) -> Iterator[Path]:
    """A new staging folder in ``root``; removed on leaving, unless a publish could neither finish
    nor undo its swaps (:class:`PublishPending`): then its journal stays for the next build."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    except OSError as exc:
        raise OutputError(f"{root}: cannot create a staging folder ({cause(exc)})") from None
    keep = False
    try:
        yield staging
    except PublishPending:
        keep = True
        raise
    finally:
        if not keep:
            shutil.rmtree(staging, ignore_errors=True)


def commit(root: Path, staging: Path, swaps: list[Swap]) -> None:
    """Journal ``swaps``, make them all (or undo them), then drop the journal."""
    try:
        write_journal(root, staging, swaps)
    except OSError as exc:
        raise OutputError(f"{root}: cannot write the publish journal ({cause(exc)})") from None
    _swap_all(staging, swaps)
    (staging / JOURNAL).unlink()
