"""Faults during a build: SIGKILL at any instant, two builds at once, a read-only or full disk.

The rule under test (see ``dla_docs/site.py``): each of ``docs/`` and ``site/`` is at every
instant wholly the previous output or wholly the new one; once the next build has taken the
lock, the pair is consistent too (an interrupted swap is rolled forward). Bad output folders
give exit 2 and one clear line, and leave the previous output and no staging folder behind.

The real-project tests kill ``python -m dla_docs build`` subprocesses; the swap and journal
windows are microseconds wide, so a forked copy of this process kills itself at each exact
step of ``publish`` on a small project instead. A real tmpfs (in a private mount namespace)
makes the disk read-only or full where mounting is permitted, else faults are injected.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import errno
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import copy_project, read_tree

from dla_docs import fs
from dla_docs.cli import main
from dla_docs.config import load_settings
from dla_docs.errors import OutputError
from dla_docs.fs import write_atomic
from dla_docs.publish import journal
from dla_docs.publish.journal import LOCK_NAME, STAGING_PREFIX, build_lock
from dla_docs.publish.site import publish, write_tree

pytestmark = pytest.mark.slow  # part of `make test-all` (and CI), not of the fast `make test`

SEED = 62  # fixed: the kill schedule is the same on every run (and in CI)
TIMED_KILLS = 4  # one kill at a random instant in each quarter of a build, up to its swap
VERIFICATION_PAGE = "templates/pages/verification.md"
OLD_LINE = "This line exists only in the previous build's output.\n"


# --- outputs and their states ------------------------------------------------------------

@dataclass(frozen=True)
class Output:
    """The full file maps of ``docs/`` and ``site/``."""

    docs: dict[str, bytes]
    site: dict[str, bytes]


def read_output(root: Path) -> Output:
    return Output(read_tree(root / "docs"), read_tree(root / "site"))


def classify(tree: dict[str, bytes], old: dict[str, bytes], new: dict[str, bytes]) -> str:
    """'old', 'new', 'absent' or 'MIXED': what a folder holds compared with both builds."""
    if tree == old:
        return "old"
    if tree == new:
        return "new"
    return "absent" if not tree else "MIXED"


def states(root: Path, old: Output, new: Output) -> tuple[str, str]:
    now = read_output(root)
    return classify(now.docs, old.docs, new.docs), classify(now.site, old.site, new.site)


def restore(root: Path, output: Output) -> None:
    """Put ``output`` back as docs/ and site/ (test set-up only, not a publish)."""
    for name, tree in (("docs", output.docs), ("site", output.site)):
        shutil.rmtree(root / name, ignore_errors=True)
        write_tree(root / name, tree)


def staging_left(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob(STAGING_PREFIX + "*"))


def recover_under_lock(root: Path) -> None:
    """What the next build does first: take the lock, which completes an interrupted swap."""
    with build_lock(root):
        pass


# --- the real project: old output, new inputs ---------------------------------------------

@dataclass
class FaultProject:
    """A project copy holding the OLD output, whose inputs now build the NEW output."""

    root: Path
    old: Output
    new: Output
    duration: float  # seconds from starting `python -m dla_docs build` to its exit


def build_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "dla_docs", "--project", str(root), "build"]


def start_build(root: Path, **kwargs) -> subprocess.Popen:
    kwargs.setdefault("stdout", subprocess.DEVNULL)
    kwargs.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen(build_command(root), cwd=root, **kwargs)


@pytest.fixture(scope="module")
def fault_project(tmp_path_factory, measurements) -> FaultProject:
    """NEW: a subprocess build of the project (timed); OLD: a build with one extra prose line."""
    root = copy_project(tmp_path_factory.mktemp("faults") / "project", measurements)
    start = time.monotonic()
    done = subprocess.run(build_command(root), cwd=root, capture_output=True, text=True)
    duration = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    new = read_output(root)
    page = root / VERIFICATION_PAGE
    original = page.read_text(encoding="utf-8")
    page.write_text(original.replace("# Verification\n", "# Verification\n\n" + OLD_LINE), encoding="utf-8")
    assert main(["--project", str(root), "build"]) == 0  # in this process: no second start-up
    old = read_output(root)
    page.write_text(original, encoding="utf-8")  # the inputs build NEW again
    assert old.docs != new.docs and old.site != new.site  # every kill can tell them apart
    return FaultProject(root, old, new, duration)


# --- SIGKILL of real builds ----------------------------------------------------------------

@dataclass
class Kill:
    """One kill: at ``delay`` seconds after the start, or once ``phase`` is seen plus ``delay``."""

    delay: float
    phase: str = ""  # "", "staging", "site" or "swap"
    landed: bool = False  # the build was still running when it was killed
    before: tuple[str, str] = ("", "")  # (docs, site) right after the kill
    after: tuple[str, str] = ("", "")  # (docs, site) once the next build took the lock
    at: float = 0.0  # seconds after the start when the kill was sent

    def label(self) -> str:
        return f"{self.phase}+{self.delay:.3f}s" if self.phase else f"t={self.delay:.2f}s"


def _phase_seen(root: Path, phase: str, docs_identity: tuple[int, int]) -> bool:
    """Whether the running build has reached ``phase`` (polled from outside)."""
    if phase == "staging":  # pages are being written into a fresh staging folder
        return any(root.glob(STAGING_PREFIX + "*"))
    if phase == "site":  # mkdocs is writing the staged site
        return any(root.glob(STAGING_PREFIX + "*/site"))
    stat = os.lstat(root / "docs")  # "swap": docs/ has been exchanged
    return (stat.st_dev, stat.st_ino) != docs_identity


def _kill_build(project: FaultProject, kill: Kill) -> None:
    root = project.root
    stat = os.lstat(root / "docs")
    identity = (stat.st_dev, stat.st_ino)
    start = time.monotonic()
    proc = start_build(root)
    try:
        if kill.phase:
            deadline = start + 3 * project.duration
            while proc.poll() is None and time.monotonic() < deadline and not _phase_seen(root, kill.phase, identity):
                time.sleep(0.002)
        time.sleep(max(0.0, kill.delay - (0 if kill.phase else time.monotonic() - start)))
        kill.landed = proc.poll() is None
        kill.at = time.monotonic() - start
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()


def timed_kills(rng: random.Random, duration: float) -> list[Kill]:
    """One kill at a random instant in each equal slice of a build's ``duration``."""
    return [Kill(rng.uniform(i, i + 1) * duration / TIMED_KILLS) for i in range(TIMED_KILLS)]


def _next_build(root: Path) -> None:
    """A normal build after a kill: it must succeed and leave no staging folder."""
    done = subprocess.run(build_command(root), cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not staging_left(root)


def _kill_and_recover(project: FaultProject, kill: Kill) -> None:
    """Kill one build from the OLD output, record both folders, then let the next build start."""
    root, old, new = project.root, project.old, project.new
    restore(root, old)
    _kill_build(project, kill)
    kill.before = states(root, old, new)
    if kill.phase == "site":  # killed in mkdocs: a whole normal build must follow
        _next_build(root)
    else:  # what the next build does first (and proof that the kill freed the lock)
        recover_under_lock(root)
    kill.after = states(root, old, new)
    assert not staging_left(root), kill.label()


def test_sigkill_at_any_point_leaves_each_folder_old_or_new(fault_project):
    project = fault_project
    rng = random.Random(SEED)
    plan = [Kill(0.0, "staging"), Kill(0.0, "swap")]  # writing the pages; just after docs/ swapped
    for kill in plan:
        _kill_and_recover(project, kill)
    publish_at = plan[1].at  # when a build swaps on this machine, now: the scale for the rest
    plan.append(Kill(rng.uniform(0.0, 0.03) * publish_at, "site"))  # mkdocs writes site/ in its last ~10%
    plan += timed_kills(rng, publish_at)
    for kill in plan[2:]:
        _kill_and_recover(project, kill)
    report = "\n".join(f"{k.label():>16} killed at {k.at:5.2f}s landed={k.landed!s:5} "
                       f"after kill docs/site={'/'.join(k.before)}  next build={'/'.join(k.after)}" for k in plan)
    print(f"\nbuild duration {project.duration:.2f}s, swap at {publish_at:.2f}s; kills (seed {SEED}):\n{report}")
    for kill in plan:
        assert set(kill.before) <= {"old", "new"}, report  # each folder whole, never a mix
        assert kill.after in {("old", "old"), ("new", "new")}, report  # the pair agrees
    by_phase = {k.phase: k for k in plan if k.phase}
    for phase in ("staging", "site"):  # killed while staging: nothing published yet
        assert by_phase[phase].landed and by_phase[phase].before == ("old", "old"), report
    assert by_phase["site"].after == ("new", "new"), report
    assert by_phase["swap"].before[0] == "new" and by_phase["swap"].after == ("new", "new"), report


# --- SIGKILL at each exact step of publish (a forked copy kills itself) ----------------------

MKDOCS = textwrap.dedent("""\
    site_name: test
    docs_dir: docs
    site_dir: site
    use_directory_urls: false
    """)
SMALL_OLD = {"index.md": b"# Old\n", "gone.md": b"# Only in the old output\n"}
SMALL_NEW = {"index.md": b"# New\n", "added.md": b"# Only in the new output\n"}


def small_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mkdocs.yml").write_text(MKDOCS)
    (root / "pyproject.toml").write_text("[tool.dla-docs]\n")
    return root


@pytest.fixture(scope="module")
def small_outputs(tmp_path_factory) -> tuple[Output, Output]:
    """The old and the new output of the small project, published normally."""
    root = small_project(tmp_path_factory.mktemp("small-reference"))
    settings = load_settings(root)
    publish(settings, SMALL_OLD)
    old = read_output(root)
    publish(settings, SMALL_NEW)
    return old, read_output(root)


def in_fork(body: Callable[[], None]) -> int:
    """Run ``body`` in a forked copy of this process; the signal that ended it, else 0."""
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            body()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert not os.WIFEXITED(status) or os.WEXITSTATUS(status) == 0, "the forked child failed"
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def die_after(function: Callable, calls: int = 1) -> Callable:
    """``function``, but the process is killed right after its ``calls``-th call returns."""
    count = 0

    def wrapper(*args, **kwargs):
        nonlocal count
        result = function(*args, **kwargs)
        count += 1
        if count == calls:
            die()
        return result

    return wrapper


def _kill_before_journal() -> None:
    journal.write_journal = lambda *args: die()


def _kill_after_journal() -> None:
    journal.write_journal = die_after(journal.write_journal)


def _kill_after_exchange(calls: int) -> Callable[[], None]:
    return lambda: setattr(fs, "exchange", die_after(fs.exchange, calls))


def _kill_in_fallback(renames: int) -> Callable[[], None]:
    """No RENAME_EXCHANGE (some filesystems): killed after the first or second rename."""
    def patch() -> None:
        fs.exchange = lambda a, b: False
        os.rename = die_after(os.rename, renames)
    return patch


def _kill_during_cleanup() -> None:
    journal.shutil.rmtree = lambda *args, **kwargs: die()


# (kill point, patch, (docs, site) right after the kill, (docs, site) after the next lock)
KILL_POINTS = [
    ("before the journal", _kill_before_journal, ("old", "old"), ("old", "old")),
    ("journal written", _kill_after_journal, ("old", "old"), ("new", "new")),
    ("docs exchanged, site not yet", _kill_after_exchange(1), ("new", "old"), ("new", "new")),
    ("both exchanged", _kill_after_exchange(2), ("new", "new"), ("new", "new")),
    ("fallback: docs parked", _kill_in_fallback(1), ("absent", "old"), ("new", "new")),
    ("fallback: docs moved in", _kill_in_fallback(2), ("new", "old"), ("new", "new")),
    ("removing the staging folder", _kill_during_cleanup, ("new", "new"), ("new", "new")),
]


@pytest.mark.parametrize("point, patch, before, after", KILL_POINTS, ids=[p[0] for p in KILL_POINTS])
def test_kill_at_each_publish_step_is_rolled_forward_by_the_next_build(tmp_path, small_outputs, point, patch,
                                                                     before, after):
    old, new = small_outputs
    root = small_project(tmp_path / "project")
    settings = load_settings(root)
    publish(settings, SMALL_OLD)

    def killed_publish() -> None:
        patch()
        publish(settings, SMALL_NEW)

    assert in_fork(killed_publish) == signal.SIGKILL
    assert states(root, old, new) == before
    assert staging_left(root)  # the kill left its staging folder (and maybe its journal)
    recover_under_lock(root)
    assert states(root, old, new) == after
    assert not staging_left(root)
    publish(settings, SMALL_NEW)  # and the next publish works normally
    assert states(root, old, new) == ("new", "new")


# --- SIGKILL of `verify --fix` while it writes a template ----------------------------------

def _start_rewriter(template: Path, versions: tuple[bytes, bytes], pause: str | None = None) -> tuple[int, int]:
    """Fork a child that rewrites ``template`` with ``write_atomic`` until killed.

    With ``pause``, the child stops inside its first write at that step (``"fsync"``: the
    temporary file is complete and not yet renamed; ``"write"``: half of it is written) and
    says so on the pipe; otherwise it says "started" and rewrites in a loop. Returns the
    child's pid and the pipe's read end.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            if pause == "fsync":
                def fsync(fd):
                    os.write(write_end, b"1")
                    signal.pause()
                os.fsync = fsync
                write_atomic(template, versions[1])
            elif pause == "write":
                class HalfWriter(io.FileIO):
                    def write(self, data):
                        super().write(bytes(data)[: len(data) // 2])
                        os.write(write_end, b"1")
                        signal.pause()
                real_fdopen = os.fdopen
                os.fdopen = lambda fd, mode="r", *a, **k: HalfWriter(fd, "w") if "w" in mode else real_fdopen(fd, mode, *a, **k)
                write_atomic(template, versions[1])
            else:
                write_atomic(template, versions[1])
                os.write(write_end, b"1")  # started: from now on the child does nothing but write
                for i in range(1_000_000):
                    write_atomic(template, versions[i % 2])
        finally:
            os._exit(1)
    os.close(write_end)
    return pid, read_end


@pytest.mark.parametrize("pause", ["write", "fsync"])
def test_sigkill_inside_a_template_write_leaves_the_old_bytes(tmp_path, pause):
    """Killed at a known step inside ``write_atomic`` (the write that ``verify --fix`` does):
    the template keeps its old bytes and only a temporary file is left."""
    template = tmp_path / "dla.md"
    original = (Path(__file__).resolve().parents[1] / "templates/models/dla.md").read_bytes()
    versions = (original, original.replace(b"FLOPs", b"FLOPS"))
    template.write_bytes(versions[0])
    pid, read_end = _start_rewriter(template, versions, pause)
    assert os.read(read_end, 1) == b"1"  # the child is paused inside the write
    os.close(read_end)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert template.read_bytes() == versions[0]
    assert len(list(tmp_path.glob(".dla.md.*.tmp"))) == 1


def test_sigkill_while_fixing_never_leaves_a_half_written_template(tmp_path):
    """``verify --fix`` writes through ``write_atomic``: a kill at any instant leaves the old
    or the new bytes (random instants; which step each kill hits is not asserted)."""
    template = tmp_path / "dla.md"
    original = (Path(__file__).resolve().parents[1] / "templates/models/dla.md").read_bytes()
    versions = (original * 64, original.replace(b"FLOPs", b"FLOPS") * 64)  # large: slow writes
    template.write_bytes(versions[0])
    rng = random.Random(SEED)
    for _ in range(8):
        pid, read_end = _start_rewriter(template, versions)
        assert os.read(read_end, 1) == b"1"
        os.close(read_end)
        time.sleep(rng.uniform(0.0, 0.03))  # where the kill lands, not whether the test waits
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert template.read_bytes() in versions, "half-written template"
        for leftover in tmp_path.glob(".dla.md.*.tmp"):
            leftover.unlink()


# --- two builds at once ---------------------------------------------------------------------

def test_two_builds_at_once_one_runs_and_the_other_is_refused(fault_project):
    project = fault_project
    root = project.root
    restore(root, project.old)
    procs = [start_build(root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [proc.communicate(timeout=10 * project.duration) for proc in procs]
    codes = [proc.returncode for proc in procs]
    assert sorted(codes) == [0, 2], outs
    refused = outs[codes.index(2)][1]
    assert refused.count("\n") == 1 and "Traceback" not in refused, refused
    assert "another dla-docs build is running" in refused
    assert read_output(root) == project.new  # the complete result of the build that ran
    assert not staging_left(root)


# --- a read-only or full disk ---------------------------------------------------------------

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_REMOUNT, MS_REC, MS_PRIVATE = 1, 32, 16384, 1 << 18


def _mount(source: str | None, target: str | None, fstype: str | None, flags: int, data: str | None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    enc = (lambda s: None if s is None else s.encode())
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), target)


def in_private_tmpfs(mountpoint: Path, body: Callable[[Path], dict]) -> dict | None:
    """``body(mountpoint)`` in a forked child with a fresh tmpfs at ``mountpoint``, seen by it alone.

    ``None`` where this machine does not let us mount (no CAP_SYS_ADMIN): the caller then
    injects the same errors instead. The mount dies with the child's mount namespace.
    """
    mountpoint.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        result: dict | None = None
        try:
            os.close(read_end)
            try:
                if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNS) != 0:
                    raise OSError(ctypes.get_errno(), "unshare")
                _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
                _mount("tmpfs", str(mountpoint), "tmpfs", 0, "size=256m")
            except OSError:
                result = None
            else:
                result = body(mountpoint)
        except BaseException:
            result = {"error": traceback.format_exc()}
        finally:
            with os.fdopen(write_end, "w") as out:
                out.write(json.dumps(result))
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as inp:
        data = inp.read()
    os.waitpid(pid, 0)
    result = json.loads(data)
    assert not (result and "error" in result), result and result["error"]
    return result


def _fill(mountpoint: Path, leave: int) -> None:
    """Leave only ``leave`` bytes free on the filesystem at ``mountpoint``."""
    st = os.statvfs(mountpoint)
    free = st.f_bavail * st.f_frsize
    with open(mountpoint / ".filler", "wb") as f:
        os.posix_fallocate(f.fileno(), 0, free - leave)


def _run_build_here(root: Path, old: Output, new: Output) -> dict:
    done = subprocess.run(build_command(root), cwd=root, capture_output=True, text=True)
    return {"code": done.returncode, "stderr": done.stderr, "states": states(root, old, new),
            "staging": staging_left(root), "root": str(root), "real": True}


def _build_with_injected_fault(root: Path, cause: int, capsys, monkeypatch, old: Output, new: Output) -> dict:
    """The fallback: the project's writes fail with ``cause`` as a read-only/full disk would."""
    capsys.readouterr()
    full = cause == errno.ENOSPC  # a full disk still opens the existing lock file
    with inject_write_errors(monkeypatch, root, cause, lambda rel: not (full and rel.name == LOCK_NAME)):
        code = main(["--project", str(root), "build"])
    return {"code": code, "stderr": capsys.readouterr().err, "states": states(root, old, new),
            "staging": staging_left(root), "root": str(root), "real": False}


@pytest.mark.parametrize("cause", [errno.EROFS, errno.ENOSPC], ids=["read-only", "full"])
def test_read_only_or_full_disk_gives_one_clear_line_and_keeps_the_output(fault_project, tmp_path, cause,
                                                                         capsys, monkeypatch):
    project = fault_project
    restore(project.root, project.old)
    recover_under_lock(project.root)

    def on_tmpfs(mountpoint: Path) -> dict:
        root = mountpoint / "project"
        shutil.copytree(project.root, root, symlinks=True)
        if cause == errno.EROFS:
            _mount(None, str(mountpoint), None, MS_REMOUNT | MS_RDONLY, None)
        else:
            _fill(mountpoint, leave=64 * 1024)  # the lock fits; the pages do not
        return _run_build_here(root, project.old, project.new)

    result = in_private_tmpfs(tmp_path / "mnt", on_tmpfs)
    if result is None:  # mounting is not permitted here: the same errors, injected
        result = _build_with_injected_fault(project.root, cause, capsys, monkeypatch, project.old, project.new)
    stderr = result["stderr"]
    print(f"\n{'real tmpfs' if result['real'] else 'injected'}: {stderr.strip()}")
    assert result["code"] == 2, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert stderr.startswith("dla-docs: error: ") and f"({os.strerror(cause)})" in stderr, stderr
    named = Path(stderr.split(": ")[2])  # the folder that could not be written
    assert named in {Path(result["root"]) / name for name in ("", "docs", "site")}, stderr
    assert tuple(result["states"]) == ("old", "old")
    assert result["staging"] == []


def _publish_into_a_full_disk(root: Path, old: Output, new: Output,
                              full: Callable[[], contextlib.AbstractContextManager]) -> dict:
    """Publish the old output, then the new one while ``full()`` is in effect."""
    settings = load_settings(root)
    publish(settings, SMALL_OLD)
    message = ""
    with full():
        try:
            publish(settings, SMALL_NEW)
        except OutputError as exc:
            message = str(exc)
    return {"message": message, "site": str(settings.site_dir), "states": states(root, old, new),
            "staging": staging_left(root)}


def test_full_disk_while_mkdocs_writes_the_site_changes_nothing(tmp_path, small_outputs, monkeypatch):
    """A filesystem that fills up in the middle of mkdocs' output, not just the pages."""
    old, new = small_outputs

    def on_tmpfs(mountpoint: Path) -> dict:
        root = small_project(mountpoint / "project")
        fill = contextlib.contextmanager(lambda: (yield _fill(mountpoint, leave=256 * 1024)))
        return _publish_into_a_full_disk(root, old, new, fill)  # pages fit, theme assets do not

    result = in_private_tmpfs(tmp_path / "mnt", on_tmpfs)
    if result is None:  # mounting is not permitted here: the same error, injected
        root = small_project(tmp_path / "project")
        result = _publish_into_a_full_disk(root, old, new, lambda: inject_write_errors(
            monkeypatch, root, errno.ENOSPC, _staged("site"), after=3))
    assert result["message"] == f"{result['site']}: cannot build the site (No space left on device)"
    assert tuple(result["states"]) == ("old", "old") and result["staging"] == []


# --- every write point of publish, with an injected error ------------------------------------

@contextlib.contextmanager
def inject_write_errors(monkeypatch, root: Path, cause: int, where: Callable[[Path], bool],
                        after: int = 0) -> Iterator[None]:
    """Make writes under ``root`` whose relative path satisfies ``where`` fail with ``cause``.

    Covers what a read-only or full filesystem refuses: opening for writing (Python's
    ``open``, ``os.open``), creating folders and renaming; the first ``after`` matching
    writes still succeed, so a folder can be left half written.
    """
    seen = 0

    def refuse(path) -> None:
        nonlocal seen
        try:
            rel = Path(os.fsdecode(path)).resolve().relative_to(root.resolve())
        except (TypeError, ValueError):
            return
        if where(rel):
            seen += 1
            if seen > after:
                raise OSError(cause, os.strerror(cause), os.fsdecode(path))

    real_open, real_os_open, real_mkdir, real_rename = io.open, os.open, os.mkdir, os.rename

    def fake_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        refuse(path)
        return real_mkdir(path, *args, **kwargs)

    def fake_rename(src, dst, *args, **kwargs):
        refuse(dst)
        return real_rename(src, dst, *args, **kwargs)

    with monkeypatch.context() as patch:
        fakes = ((io, "open", fake_open), (builtins, "open", fake_open), (os, "open", fake_os_open),
                 (os, "mkdir", fake_mkdir), (os, "rename", fake_rename), (os, "replace", fake_rename))
        for module, name, fake in fakes:
            patch.setattr(module, name, fake)
        yield


def _staged(part: str) -> Callable[[Path], bool]:
    """Paths in a staging folder under ``part`` (docs, site, mkdocs.yml, publish.json...)."""
    return lambda rel: len(rel.parts) > 1 and rel.parts[0].startswith(STAGING_PREFIX) and rel.parts[1].startswith(part)


def _fail_exchange(call: int, cause: int) -> Callable[[pytest.MonkeyPatch], None]:
    real = fs.exchange

    def patch(monkeypatch) -> None:
        count = 0

        def exchange(a: Path, b: Path) -> bool:
            nonlocal count
            count += 1
            if count == call:
                raise OSError(cause, os.strerror(cause), str(b))
            return real(a, b)

        monkeypatch.setattr(fs, "exchange", exchange)
    return patch


# (write point, what fails, after how many matching writes, the folder the message names)
WRITE_POINTS = [
    ("staging folder", lambda rel: rel.parts[0].startswith(STAGING_PREFIX), 0, "root"),
    ("pages", _staged("docs"), 1, "docs"),
    ("mkdocs.yml copy", _staged("mkdocs.yml"), 0, "site"),
    ("site", _staged("site"), 3, "site"),
    ("journal", _staged("publish.json"), 0, "root"),
    ("docs exchange", None, 1, "docs"),
    ("site exchange (docs undone)", None, 2, "site"),
]


@pytest.mark.parametrize("cause", [errno.EROFS, errno.ENOSPC], ids=["read-only", "full"])
@pytest.mark.parametrize("point, where, after, named", WRITE_POINTS, ids=[p[0] for p in WRITE_POINTS])
def test_write_error_at_each_publish_step_changes_nothing(tmp_path, small_outputs, monkeypatch, point, where,
                                                          after, named, cause):
    old, new = small_outputs
    root = small_project(tmp_path / "project")
    settings = load_settings(root)
    publish(settings, SMALL_OLD)
    with contextlib.ExitStack() as stack:
        if where is None:
            _fail_exchange(after, cause)(monkeypatch)
        else:
            stack.enter_context(inject_write_errors(monkeypatch, root, cause, where, after))
        with pytest.raises(OutputError) as raised:
            publish(settings, SMALL_NEW)
    message = str(raised.value)
    folder = {"root": root, "docs": settings.docs_dir, "site": settings.site_dir}[named]
    assert message.startswith(f"{folder}: ") and f"({os.strerror(cause)})" in message, message
    assert "\n" not in message
    assert states(root, old, new) == ("old", "old")
    assert not staging_left(root)


def test_a_swap_that_cannot_be_undone_is_finished_by_the_next_build(tmp_path, small_outputs, monkeypatch):
    """Site exchange fails and so does undoing docs: the journal stays for the next build."""
    old, new = small_outputs
    root = small_project(tmp_path / "project")
    settings = load_settings(root)
    publish(settings, SMALL_OLD)
    real = fs.exchange
    calls = []

    def exchange(a: Path, b: Path) -> bool:
        calls.append(b.name)
        if len(calls) >= 2:  # the site exchange and the undo of docs both fail
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(b))
        return real(a, b)

    monkeypatch.setattr(fs, "exchange", exchange)
    with pytest.raises(OutputError, match="the next build completes the publish"):
        publish(settings, SMALL_NEW)
    assert states(root, old, new) == ("new", "old") and staging_left(root)
    monkeypatch.setattr(fs, "exchange", real)
    recover_under_lock(root)
    assert states(root, old, new) == ("new", "new") and not staging_left(root)
