"""Run code blocks each in a fresh process, cheaply: a zygote that has imported torch forks one child per block.

Starting a Python that imports torch costs seconds on a loaded machine, and the pages hold
dozens of blocks. The zygote is started once (with the environment the blocks must see:
``HF_HUB_OFFLINE=1``, the generated Hub cache) and imports torch, PIL, numpy, safetensors and
``dla_docs``, but runs no block itself. For each block it forks a child, which changes into
the block's own working folder, runs the block as ``__main__`` in an empty namespace and
exits. So every block runs in a process of its own with nothing left by another block, as a
reader's fresh ``python`` would run it; only the import time is shared.

huggingface_hub is not imported in the zygote: it reads ``HF_HUB_*`` when imported, which
each child does itself.

timm (a test dependency) needs torchvision. PyPI's torchvision wheels are built against
PyPI's CUDA torch; beside the CPU build of torch that this project pins, their compiled
operators (``torchvision/_C.so``, which links ``libtorch_cuda.so``) cannot load, and
``import torchvision`` then stops in its own ``_meta_registrations`` with "operator
torchvision::nms does not exist". :data:`TORCHVISION_OPS` declares the schemas of the two
operators that module registers unconditionally (``nms``, ``qnms``), without any kernel, so
the pure-Python rest of torchvision imports: the transforms timm's ``create_transform``
builds on. Nothing a DLA snippet runs uses a torchvision operator (NMS, RoI pooling, image
decoding); calling one would fail loudly. With a torchvision whose operators load, the
declaration is never made.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TORCHVISION_OPS = r'''
def _import_torchvision():
    """torchvision, its operator schemas declared first when its compiled operators cannot load."""
    import sys
    import torch
    try:
        import torchvision
        return None
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    declared = torch.library.Library("torchvision", "DEF")  # kept alive: dropping it undeclares
    for op in ("nms", "qnms"):
        declared.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import torchvision
    assert not torchvision.extension._has_ops()
    return declared
'''

ZYGOTE = TORCHVISION_OPS + r'''
import json, os, sys, traceback
import numpy, torch, PIL.Image, safetensors.torch, dla_docs  # noqa: F401  (what every block imports)
_TORCHVISION_DECLARED = _import_torchvision()
import timm  # noqa: F401  (a test dependency: the cards' timm snippets)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.chdir(request["cwd"])
            out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, 1)
            os.dup2(out, 2)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            sys.stdin = open(os.devnull)
            sys.argv = ["snippet"]
            exec(compile(request["code"], request["name"], "exec"), {"__name__": "__main__"})
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)
'''


@dataclass(frozen=True)
class BlockResult:
    status: int
    output: str


class SnippetRunner:
    """One zygote process; :meth:`run` executes one block in a fresh child and waits for it."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env, text=True, cwd=logs)
        self.count = 0

    def run(self, code: str, cwd: Path, name: str) -> BlockResult:
        self.count += 1
        log = self.logs / f"{self.count}.log"
        request = {"code": code, "cwd": str(cwd), "log": str(log), "name": name}
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the snippet zygote died (exit {self.process.wait()})")
        return BlockResult(json.loads(answer)["status"], log.read_text(errors="replace"))

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def snippet_env(hub_cache: Path, home: Path, project: Path) -> dict[str, str]:
    """The environment of a reader's shell, offline, with the generated Hub cache as theirs."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(project),
        "HOME": str(home),
        "HF_HUB_CACHE": str(hub_cache),
        "HF_HOME": str(home / "hf-home"),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "OMP_NUM_THREADS": "1",
        "LC_ALL": "C.UTF-8",
    }
