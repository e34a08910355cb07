"""How a recorded throughput was measured, read from its timm file's name.

timm names each benchmark file after its run (``results/README.md`` of timm describes the
files, not the runs; the name is the record):
``benchmark-infer-amp-nchw-pt291-cu130-5090.csv`` is an inference run in mixed precision
(AMP), NCHW (channels-first) layout, PyTorch 2.9.1, CUDA 13.0, on an RTX 5090, in eager mode;
``benchmark-infer-fp32-nchw-pt240-cpu-i7_12700h-dynamo.csv`` is fp32 on a CPU, PyTorch 2.4.0,
compiled with ``torch.compile`` (TorchDynamo; timm's ``benchmark.py --torchcompile``). ``amp``
is timm's ``benchmark.py`` default AMP type, ``--amp-dtype float16``. The batch size is the row's own
``batch_size`` column. Every part a page shows comes from here, none is typed in a template.
Nothing here imports torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_NAME = re.compile(
    r"^benchmark-(?P<mode>infer|train)-(?P<precision>amp_bf16|amp|fp32|bf16|fp16)-(?P<layout>nchw|nhwc)"
    r"-pt(?P<pt>\d{2,4})-(?:cu(?P<cuda>\d{2,4})|(?P<cpu>cpu))-(?P<machine>.+?)(?P<dynamo>-dynamo)?\.csv$")
PRECISIONS = {"amp": "AMP fp16", "amp_bf16": "AMP bf16", "fp32": "fp32", "bf16": "bf16", "fp16": "fp16"}
LAYOUTS = {"nchw": "NCHW", "nhwc": "NHWC"}  # channels first, channels last


@dataclass(frozen=True)
class BenchmarkRun:
    """The conditions of one recorded run; ``None`` where the file name does not say."""

    source: str
    device: str | None       # "GPU" or "CPU"
    precision: str | None
    layout: str | None
    pytorch: str | None      # "2.9.1"
    cuda: str | None         # "13.0"; None on a CPU
    compiled: bool | None    # torch.compile (TorchDynamo), or eager

    @property
    def mode(self) -> str | None:
        if self.compiled is None:
            return None
        return "compiled (torch.compile)" if self.compiled else "eager"

    def conditions(self, batch: int | None = None) -> str:
        """``AMP fp16, batch 1024, NCHW, PyTorch 2.9.1, CUDA 13.0, eager``: each part the name
        gives, in this order (a page explains the terms once, beside its table)."""
        parts = [self.precision, f"batch {batch}" if batch else None, self.layout,
                 f"PyTorch {self.pytorch}" if self.pytorch else None,
                 f"CUDA {self.cuda}" if self.cuda else ("no CUDA" if self.device == "CPU" else None),
                 self.mode]
        return ", ".join(p for p in parts if p)


def _pytorch(digits: str) -> str:
    """timm's ``pt`` code: ``291`` -> 2.9.1, ``240`` -> 2.4.0, ``113`` -> 1.13 (PyTorch 1 had two-digit minors)."""
    major, rest = digits[0], digits[1:]
    if major == "1" or len(rest) != 2:
        return f"{major}.{rest}"
    return f"{major}.{rest[0]}.{rest[1]}"


def benchmark_run(source: str) -> BenchmarkRun:
    """The run ``source`` (``results/benchmark-infer-...csv``) records; unknown parts as ``None``."""
    match = _NAME.match(PurePosixPath(source).name)
    if match is None:
        return BenchmarkRun(source, None, None, None, None, None, None)
    cuda = match["cuda"]
    return BenchmarkRun(
        source=source, device="CPU" if match["cpu"] else "GPU", precision=PRECISIONS[match["precision"]],
        layout=LAYOUTS[match["layout"]], pytorch=_pytorch(match["pt"]),
        cuda=f"{cuda[:-1]}.{cuda[-1]}" if cuda else None, compiled=bool(match["dynamo"]))
