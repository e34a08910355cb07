"""Atomic writes: readers see the old file or the new one, never a part.

- :func:`write_atomic`: replace a file in one step;
- :func:`replace_if_unchanged`: the same as a compare-and-swap (a concurrent edit is kept);
- :func:`exchange`: swap two paths atomically; :func:`remove_stale_temps`: what a killed
  writer left.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` in one step: readers see the old file or the new one.

    The new file keeps the old one's permissions, or gets ``mode``, or for a new file the
    mode a plain ``open`` would give it (0o666 less the umask); the temporary file lives
    beside the target (named after it and this process, see :func:`remove_stale_temps`) and
    is removed if anything fails. An error names ``path``, not the temporary file.
    """
    if mode is None:
        mode = _mode_of(path)
    tmp = _write_temp(path, data, mode)
    _keep_owner(path, tmp)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0o22)
        os.umask(umask)
        return 0o666 & ~umask


def _keep_owner(path: Path, tmp: Path) -> None:
    """Give ``tmp`` the owner and group of the file it replaces (only root can change them; a
    process that cannot keeps its own, as any editor would)."""
    try:
        old, new = path.stat(), tmp.stat()
        if (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
            os.chown(tmp, old.st_uid, old.st_gid)
    except OSError:
        pass


_TMP_SUFFIX = ".tmp"


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new temporary file beside ``path``: ``.<name>.<pid>.<random>.tmp``."""
    import tempfile  # imported by the commands that write (a warm verify writes nothing)

    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=_TMP_SUFFIX)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


class ChangedOnDisk(Exception):
    """The file was not what the caller read when it was about to be replaced; it was kept."""

    def __init__(self, path: Path, kept_at: Path | None = None) -> None:
        super().__init__(str(path))
        self.path = path
        self.kept_at = kept_at


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (``renameat2(RENAME_EXCHANGE)``); ``False`` where the
    kernel or the file system cannot."""
    import ctypes

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


def replace_if_unchanged(path: Path, expected: bytes, data: bytes) -> None:
    """Replace ``path`` with ``data`` only if it still holds ``expected`` (compare-and-swap).

    The new file is swapped in with one atomic :func:`exchange`, and what the exchange took
    out is compared with ``expected``: if another program changed the file in between, the
    swap is undone at once and :class:`ChangedOnDisk` is raised, so a concurrent edit is
    never lost. Where the file system cannot exchange, the check and the replace happen
    under an exclusive ``flock`` of the file (which holds off another dla-docs). A link is
    followed: the file it leads to is replaced, the link stays.
    """
    path = Path(os.path.realpath(path))
    tmp = _write_temp(path, data, _mode_of(path))
    _keep_owner(path, tmp)
    keep_tmp = False
    try:
        if exchange(tmp, path):
            if tmp.read_bytes() == expected:
                return
            exchange(tmp, path)  # put the other edit back
            if tmp.read_bytes() != data:  # yet another edit meanwhile: keep it, never delete it
                keep_tmp = True
                raise ChangedOnDisk(path, tmp)
            raise ChangedOnDisk(path)
        with open(path, "rb") as current:
            fcntl.flock(current.fileno(), fcntl.LOCK_EX)
            if current.read() != expected:
                raise ChangedOnDisk(path)
            os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        if not keep_tmp:
            tmp.unlink(missing_ok=True)


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files beside ``path`` that a killed writer left; the removed ones.

    A temporary file names the process that wrote it; one whose process is gone (or that
    names none, from an older version) is stale. A running process's files are left alone.
    """
    path = Path(os.path.realpath(path))
    prefix = _temp_prefix(path)
    removed: list[Path] = []
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(_TMP_SUFFIX)]
    except OSError:
        return removed
    for candidate in candidates:
        owner = candidate.name[len(prefix):].split(".", 1)[0]
        if owner.isdigit() and _alive(int(owner)):
            continue
        try:
            if stat.S_ISREG(candidate.lstat().st_mode):
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True
