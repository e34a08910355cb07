"""The bench's method, not its figures: nothing here times anything.

- procs.run sums the memory of a whole process tree (a child and its grandchild, each
  holding a known amount), which a single process's ru_maxrss cannot show;
- the throw-away project copy has what the commands read and none of the code, caches or
  generated folders, and leaves the real project alone;
- ``bench.py --dry-run`` lists every scenario the issue's targets need.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import procs  # noqa: E402

import bench  # noqa: E402

HOLD = 100 * 2**20  # bytes each process of the tree keeps resident

# Blocks SIGUSR1, (with a second argument: starts a copy of itself,) fills HOLD bytes, writes
# its pid into the folder argv[1] and waits for SIGUSR1.
HOLDER = f"""
import os, signal, subprocess, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGUSR1}})
child = subprocess.Popen([sys.executable, sys.argv[0], sys.argv[1]]) if len(sys.argv) > 2 else None
held = b"\\x01" * {HOLD}
open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
signal.sigwait({{signal.SIGUSR1}})
sys.exit(child.wait() if child is not None else 0)
"""


def test_peak_rss_is_summed_over_the_process_tree(tmp_path):
    pytest.importorskip("psutil")
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    pids = tmp_path / "pids"
    pids.mkdir()
    released = []

    def release_when_both_hold(rss: int) -> None:
        # Both processes hold their memory and wait: let them finish (once), after a sample saw them.
        ready = os.listdir(pids)
        if not released and rss >= 2 * HOLD and len(ready) == 2:
            released.append(rss)
            for pid in ready:
                os.kill(int(pid), signal.SIGUSR1)

    result = procs.run([sys.executable, str(script), str(pids), "spawn"], cwd=tmp_path, env=dict(os.environ),
                       stdout=tmp_path / "out", stderr=tmp_path / "err", timeout_s=120,
                       on_sample=release_when_both_hold)
    seen = f"{result}; released at {released}; pids {os.listdir(pids)}; stderr: {(tmp_path / 'err').read_text()}"
    assert released, f"the sampler never saw both processes holding their memory: {seen}"
    assert result.exit_code == 0, seen
    assert result.peak_rss >= 2 * HOLD
    # wait4 sees one process at a time; its figure can also include the pages a child held
    # between fork and exec (the test process's own size), so only its floor is asserted.
    assert result.max_single_rss >= HOLD
    assert result.wall_s > 0 and result.samples >= 1


def test_project_copy_has_the_inputs_and_no_code_or_caches(tmp_path):
    before = sorted(p.name for p in ROOT.iterdir())
    options = bench.parse(["--repeat", "1"])
    runner = bench.Bench(tmp_path, options)
    runner.make_copy()
    copied = {p.name for p in runner.copy.iterdir()}
    assert {"pyproject.toml", "mkdocs.yml", "templates", "docs"} <= copied
    assert not copied & {".git", ".venv", "dla_docs", "tests", "bench", "site", ".dla-docs-cache"}
    assert not list(runner.copy.rglob("__pycache__"))
    assert (runner.copy / "docs").is_dir() and any((runner.copy / "docs").rglob("*.md"))
    assert runner.cache_dir().parent == runner.copy
    assert sorted(p.name for p in ROOT.iterdir()) == before


def test_dry_run_lists_every_scenario_of_the_targets():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--dry-run"], capture_output=True,
                          text=True, timeout=60, check=True)
    for key in ("help", "measure-cold", "measure-warm", "build-cold", "build-warm", "verify-cold", "verify-warm"):
        assert f"\n{key}: python -m dla_docs" in done.stdout
    assert "naive_loop.py" in done.stdout
    assert "importtime" in done.stdout
    targeted = {key for key, _kind, _limit in bench.TARGETS} - {"*"}
    assert targeted <= set(bench.BY_KEY)
