"""The measuring server, as every command uses it: torch stays out of the command, no module
comes from the working folder, and a stopped, killed or silent server or worker ends the command
with one line and exit status 2, never a hang or a traceback (issue 20, item 6; issue 21, 6-8)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import copy_project

from dla_docs.measure.facts import Measurement

WAIT_S = 150  # a hang guard only: the command must end long before (see the runner's bounds)


def _command(project: Path, *args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """``dla-docs --project PROJECT ARGS`` as a user runs it: the console script, its own process."""
    script = Path(sys.executable).with_name("dla-docs")
    return subprocess.Popen([str(script), "--project", str(project), *args], cwd=cwd or project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        process.communicate()
        pytest.fail(f"the command did not end within {WAIT_S} s")
    return process.returncode, out, err


def _kill_tree(pid: int) -> None:
    try:
        family = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            process.send_signal(signal.SIGCONT)
            process.kill()
        except psutil.NoSuchProcess:
            pass


def _workers(command: psutil.Process) -> tuple[psutil.Process, list[psutil.Process]]:
    """The command's measuring server and its workers, once there are some (waits on them)."""
    while True:
        if not command.is_running() or command.status() == psutil.STATUS_ZOMBIE:
            pytest.fail("the command ended before its measuring workers started")
        servers = command.children()
        workers = [w for s in servers for w in s.children()]
        if servers and workers:
            return servers[0], workers
        psutil.wait_procs(servers or [command], timeout=0.05)  # an event wait: returns when one ends


@pytest.fixture
def cold_project(tmp_path):
    return copy_project(tmp_path / "project")


def _one_clear_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dla-docs: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("target", ["server", "worker"])
@pytest.mark.parametrize("fault, says", [("suspend", "stopped (SIGSTOP)"), ("kill", "killed by SIGKILL")])
def test_a_stopped_or_killed_server_or_worker_ends_the_command_with_one_line(cold_project, target, fault, says):
    """Issue 21, cases 6 and 7: one line naming what happened to which process, exit 2, never a hang."""
    command = _command(cold_project, "verify", "--no-cache")
    try:
        server, workers = _workers(psutil.Process(command.pid))
        getattr(server if target == "server" else workers[0], fault)()
        code, _, err = _finish(command)
    finally:
        _kill_tree(command.pid)
    line = _one_clear_line(err)
    assert code == 2 and says in line and f"measuring {target}" in line, line


def test_a_silent_server_is_given_up_after_the_bound(cold_project):
    """No variant finished within ``DLA_DOCS_MEASURE_TIMEOUT`` seconds (here far too short a bound)."""
    code, _, err = _finish(_command(cold_project, "measure", "--no-cache", env={"DLA_DOCS_MEASURE_TIMEOUT": "0.2"}))
    line = _one_clear_line(err)
    assert code == 2 and "finished no variant in" in line and "DLA_DOCS_MEASURE_TIMEOUT" in line, line


@pytest.mark.slow
def test_a_killed_command_takes_the_server_and_its_workers_with_it(cold_project):
    command = _command(cold_project, "measure", "--no-cache")
    try:
        server, workers = _workers(psutil.Process(command.pid))
        family = [server, *server.children(recursive=True)]
    finally:
        command.kill()
        command.communicate()
    _, alive = psutil.wait_procs(family, timeout=60)  # returns as soon as every one is gone
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"{[p.pid for p in alive]} outlived their killed command"


@pytest.mark.slow
def test_the_command_imports_no_torch_and_nothing_from_the_working_folder(tmp_path, measurements):
    """Issue 21, case 8: a ``torch.py`` or ``fvcore.py`` in the working folder is never imported,
    by the command or by any process it starts; the measurements are the session's own."""
    folder = tmp_path / "work"
    folder.mkdir()
    for name in ("torch", "fvcore", "dla_docs"):
        (folder / f"{name}.py").write_text(f"open({str(folder / (name + '.ran'))!r}, 'w').close()\n")
    project = copy_project(tmp_path / "project")
    script = ("import json, sys\nfrom pathlib import Path\nfrom dla_docs import run\nfrom dla_docs.config import load_settings\n"
              f"found = run.measure(load_settings(Path({str(project)!r})), ['dla46_c', 'dla34'], no_cache=True)\n"
              "print(json.dumps({'torch': 'torch' in sys.modules, "
              "'measured': {n: m.to_dict() for n, m in found.measurements.items()}}))")
    script_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script_env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout, not the folder
    done = subprocess.run([sys.executable, "-P", "-c", script], cwd=folder, capture_output=True, text=True,
                          timeout=WAIT_S, env=script_env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["torch"] is False
    assert {n: Measurement.from_dict(d) for n, d in answer["measured"].items()} == {
        n: measurements[n] for n in ("dla46_c", "dla34")}
    code, _, err = _finish(_command(project, "measure", "dla46_c", "--no-cache", cwd=folder))
    assert code == 0, err
    assert not list(folder.glob("*.ran")), "a module of the working folder was imported"
