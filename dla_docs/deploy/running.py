"""``dla-docs deploy``'s flow: measure in the measuring server's workers, then record or compare.

Two requests to one server: the exports and comparisons of every variant, in parallel
(``task: deploy``), then, unless checking, the latency of each variant, one at a time with
nothing else of the command running (``task: latency``). The ONNX files live in a temporary
folder for the duration of the command. Every wait is the runner's bounded wait.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dla_docs.deploy import record as rec
from dla_docs.deploy.rules import BATCHES, INSTALL, PACKAGES, STRICT_NOT_RUN, TOLERANCE
from dla_docs.errors import DlaDocsError
from dla_docs.progress import Progress, no_progress


class DeployUnavailable(DlaDocsError):
    """onnx, onnxscript or onnxruntime is not installed."""


class DeployRecordError(DlaDocsError):
    """The committed record cannot be read, or cannot take a partial update."""


@dataclass
class Deployed:
    """What ``deploy`` measured; with ``check``, the differences from the record (one line each)."""

    facts: dict[str, dict]
    path: Path
    written: bool = False
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def require_packages() -> None:
    missing = [p for p in PACKAGES if importlib.util.find_spec(p) is None]
    if missing:
        raise DeployUnavailable(f"dla-docs deploy needs {', '.join(missing)}: {INSTALL}")


def _collect(server, names: Sequence[str], progress: Progress) -> dict[str, dict]:
    from dla_docs.measure.runner import MeasuringLost

    found: dict[str, dict] = {}
    for answer in server.answers_for(len(names)):
        if answer.get("kind") == "lost":
            raise MeasuringLost(str(answer.get("message")))
        if answer.get("kind") != "done":
            raise RuntimeError(f"deploy {answer.get('name')} failed in the measuring worker:\n{answer.get('error')}")
        found[answer["name"]] = answer
        progress(answer["name"], False)
    return found


def measure_deploy(names: Sequence[str], image_size: int, jobs: int, latency: bool, progress: Progress,
                   latency_progress: Progress) -> tuple[dict[str, dict], dict[str, str], dict[str, dict]]:
    """``(facts by variant, code manifest, latency by variant)``, measured in the server's workers."""
    from dla_docs.measure.runner import MeasuringServer, _expected_cost

    with tempfile.TemporaryDirectory(prefix="dla-docs-deploy-") as workdir:
        server = MeasuringServer()
        try:
            order = sorted(names, key=_expected_cost, reverse=True)
            server.request(order, image_size, min(jobs, len(names)), task="deploy", options={"workdir": workdir})
            answers = _collect(server, names, progress)
            timings: dict[str, dict] = {}
            if latency:
                server.request(list(names), image_size, 1, task="latency", options={"workdir": workdir})
                timings = {n: a["facts"] for n, a in _collect(server, names, latency_progress).items()}
            server.close(finished=True)
        finally:
            server.close()
    facts = {name: answers[name]["facts"] for name in names}
    code: dict[str, str] = {}
    for name in names:
        code.update(answers[name]["code"])
    return facts, dict(sorted(code.items())), timings


def latency_rows(name: str, timing: dict, facts: dict, versions: dict) -> list[dict]:
    """timm's benchmark columns (``model, img_size, samples_per_sec, step_time_ms, batch_size,
    param_count_m``) for each runtime, plus how it was timed."""
    rows = []
    labels = {"pytorch": f"pytorch {versions.get('torch')} eager",
              "onnxruntime": f"onnxruntime {versions.get('onnxruntime')} CPUExecutionProvider"}
    for runtime in ("pytorch", "onnxruntime"):
        if runtime not in timing:
            continue
        t = timing[runtime]
        rows.append({"model": name, "img_size": facts["image_size"], "batch_size": timing["batch_size"],
                     "samples_per_sec": round(1000.0 * timing["batch_size"] / t["median_ms"], 2),
                     "step_time_ms": t["median_ms"], "param_count_m": facts.get("param_count_m"),
                     "p10_ms": t["p10_ms"], "p90_ms": t["p90_ms"], "runs": t["runs"], "warmup": t["warmup"],
                     "threads": t["threads"], "load": timing["load"], "runtime": labels[runtime],
                     "source": rec.RECORD_FILE})
    return rows


def deploy(root: Path, names: Sequence[str], all_names: Sequence[str], image_size: int, check: bool,
           jobs: int, progress: Progress = no_progress, latency_progress: Progress = no_progress) -> Deployed:
    """Measure ``names``; with ``check``, compare with the record (nothing written), else record them
    (a partial run merges into a record made by the same code, versions and machine)."""
    from dla_docs.deploy.latency import machine
    from dla_docs.fs import write_atomic

    require_packages()
    path = rec.record_path(root)
    try:
        old = rec.read_record(root)
    except rec.RecordError as exc:
        if check:
            raise DeployRecordError(f"{rec.RECORD_FILE}: {exc}; run `{rec.COMMAND}`") from None
        old = None  # replaced by a full run below
    versions = rec.installed_versions()
    if check:
        if old is None:
            raise DeployRecordError(f"{rec.RECORD_FILE}: no deploy record; run `{rec.COMMAND}`")
        facts, code, _ = measure_deploy(names, image_size, jobs, False, progress, latency_progress)
        lines = [f"{rec.RECORD_FILE}: {why}" for why in rec.staleness(old, list(all_names))]
        for name in names:
            if name not in old["variants"]:
                lines.append(f"{rec.RECORD_FILE}: {name}: not recorded")
                continue
            lines += [f"{rec.RECORD_FILE}: {name}: {d}" for d in rec.differences(old["variants"][name], facts[name])]
        return Deployed(facts, path, differences=lines)
    partial = set(names) != set(all_names)
    if partial and old is not None and rec.staleness(old, list(all_names)):
        raise DeployRecordError(f"{rec.RECORD_FILE} was recorded by other code, versions or variants; "
                                f"run `{rec.COMMAND}` for every variant")
    facts, code, timings = measure_deploy(names, image_size, jobs, True, progress, latency_progress)
    here = machine()
    if partial and old is not None and old["machine"] != here:
        raise DeployRecordError(f"{rec.RECORD_FILE}'s latency was timed on another machine; "
                                f"run `{rec.COMMAND}` for every variant")
    variants = dict(old["variants"]) if partial and old is not None else {}
    variants.update(facts)
    rows = [r for r in (old["latency"] if partial and old is not None else []) if r.get("model") not in facts]
    for name in names:
        rows += latency_rows(name, timings[name], facts[name], versions)
    order = {n: i for i, n in enumerate(all_names)}
    record = {
        "format": rec.FORMAT,
        "command": rec.COMMAND,
        "rule": {"tolerance": TOLERANCE, "relative_error": "max |output - eager| / max |eager|",
                 "batches": list(BATCHES), "weights": "seeded init, batch-norm statistics calibrated on a "
                 "seeded batch (dla_docs/deploy/weights.py)", "torch_export": STRICT_NOT_RUN},
        "versions": {p: v for p, v in versions.items() if v is not None},
        "code": code if not partial or old is None else dict(sorted({**old["code"], **code}.items())),
        "machine": here,
        "variants": dict(sorted(variants.items(), key=lambda kv: order.get(kv[0], len(order)))),
        "latency": sorted(rows, key=lambda r: (order.get(r["model"], len(order)), r["runtime"])),
    }
    write_atomic(path, rec.dumps(record))
    return Deployed(facts, path, written=True)
