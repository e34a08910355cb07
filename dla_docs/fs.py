"""The project's file-system rules, one helper per idea.

- :func:`contained` / :func:`inside`: does a path stay inside a folder once links are resolved;
- :func:`irregular_entries`: what in a folder of generated files is not a plain file or folder;
- :func:`shown`: how messages name a file (relative to the project when inside it);
- :func:`read_bounded` and :func:`decode_utf8`: read a regular file up to a size cap, decode it
  with the line and column of a bad byte;
- :func:`write_atomic`: replace a file in one step (readers see the old or the new bytes);
- :func:`replace_if_unchanged`: the same as a compare-and-swap (a concurrent edit is kept);
- :func:`exchange`: swap two paths atomically; :func:`remove_stale_temps`: what a killed
  writer left.

Torch-free and import-light: every stage uses these, and they use no stage.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from dla_docs.errors import InputError, Location


def contained(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it once links are resolved."""
    target, base = Path(path).resolve(), Path(folder).resolve()
    return target == base or base in target.parents


def files_under(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by relative POSIX path, sorted; folders that are links are
    not entered, and a file that is a link counts only when it leads to a file inside ``folder``."""
    if not folder.is_dir():
        return {}
    files = {}
    for top, dirs, names in os.walk(folder):
        dirs.sort()
        for name in names:
            path = Path(top, name)
            if path.is_file() and (not path.is_symlink() or contained(path, folder)):
                files[path.relative_to(folder).as_posix()] = path
    return dict(sorted(files.items()))


def kind_of(mode: int) -> str:
    """What a file-system entry that is not a regular file is, in words (from its ``st_mode``)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def irregular_entries(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` that is neither a regular file nor a real folder, by relative
    POSIX path, with what it is: a symbolic link (to a file or a folder, inside or outside,
    with its target), a FIFO, a socket or a device. Only ``lstat`` is asked: nothing is
    opened or followed. A folder of generated files holds none of these, and a site builder
    would copy what a link leads to (``/etc/passwd``) or block on a FIFO."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for top, dirs, names in os.walk(folder):  # links to folders are listed, never entered
        dirs.sort()
        for name in sorted([*dirs, *names]):
            path = Path(top, name)
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                try:
                    target = os.readlink(path)
                except OSError:
                    target = "?"
                found[path.relative_to(folder).as_posix()] = f"a symbolic link (to {target})"
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found[path.relative_to(folder).as_posix()] = kind_of(mode)
    return dict(sorted(found.items()))


def inside(root: Path, relative: str, where: Location, field: str) -> Path:
    """``root / relative``, refusing anything that would resolve outside ``root``.

    The check is on the resolved path, so a symbolic link that leads out of the project
    is refused as well as ``..`` and absolute paths; the message says which it was.
    """
    path = (root / relative).resolve()
    if not contained(path, root):
        lexical = Path(os.path.normpath(root / relative))
        if lexical == root or root in lexical.parents:
            raise InputError(where, field, f"path {relative!r} is a link to {path}, outside the project folder {root}")
        raise InputError(where, field, f"path {relative!r} points outside the project folder {root}")
    return path


def shown(path: Path | str, root: Path | None, resolve: bool = True) -> str:
    """How messages name a file: relative to ``root`` when inside it, else as given.

    With ``resolve=False`` a link is named as written, not by its target.
    """
    if root is None:
        return str(path)
    try:
        if resolve:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        return Path(path).relative_to(root).as_posix()
    except (ValueError, OSError):
        return str(path)


def read_bounded(path: Path, limit: int, display: str, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refusing FIFOs, devices and files over ``limit``.

    A FIFO or a device would block or never end, so the type is checked before opening.
    """
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise InputError(Location(display), what, "not a regular file")
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise InputError(Location(display), what, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise InputError(Location(display), what, f"larger than {size}; refused")
    return data


def decode_utf8(data: bytes, display: str, field: str | Callable[[str, int], str] = "encoding") -> str:
    """``data`` as UTF-8 text; a bad byte is an :class:`InputError` at its line and column.

    ``field`` names the field in the message, or is called with the text (bad bytes
    replaced) and the line to name it (a TOML key, say).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        name = field if isinstance(field, str) else field(data.decode("utf-8", "replace"), line)
        raise InputError(Location(display, line, column), name,
                         f"not UTF-8 text ({exc.reason}: byte 0x{data[exc.start]:02x})") from None


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
