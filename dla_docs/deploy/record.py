"""The committed deploy record: one JSON file with every variant's deployability facts, the
batch-1 latency rows (timm's benchmark columns, plus the runtime and spread), the machine
they were timed on, the package versions and the digests of the code that produced them.

Torch-free: ``verify`` checks the record against the code and the installed versions
(:func:`staleness`) without running anything, and the pages read it (:class:`DeployCard`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from dla_docs.deploy.rules import BATCHES, EXPORT_MODES, PACKAGES, TOLERANCE
from dla_docs.store import changed_code

RECORD_FILE = "data/deploy_dla.json"  # inside the project
FORMAT = 1
MAX_RECORD_BYTES = 4 * 1024 * 1024
COMMAND = "dla-docs deploy"


class RecordError(ValueError):
    """The record cannot be read as a deploy record."""


def record_path(root: Path) -> Path:
    return root / RECORD_FILE


def installed_versions() -> dict[str, str | None]:
    """The installed version of each package the record names (``None``: not installed)."""
    found: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def dumps(record: dict) -> bytes:
    """The record's bytes: sorted keys, two-space indent, a final newline (deterministic)."""
    return (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def parse(data: bytes) -> dict:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"not JSON: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise RecordError(f"not a deploy record of format {FORMAT}")
    for key, kind in (("variants", dict), ("versions", dict), ("code", dict), ("latency", list),
                      ("machine", dict)):
        if not isinstance(record.get(key), kind):
            raise RecordError(f"{key}: missing or not a {kind.__name__}")
    return record


def read_record(root: Path) -> dict | None:
    """The committed record, or ``None`` when the project has none (raises :class:`RecordError`)."""
    from dla_docs.fs import read_bounded

    path = record_path(root)
    if not path.exists():
        return None
    return parse(read_bounded(path, MAX_RECORD_BYTES, RECORD_FILE, "deploy record"))


def staleness(record: dict, names: list[str]) -> list[str]:
    """Why ``record`` no longer vouches for the code and packages here (empty: it does).

    The code: every file its manifest names must still have the recorded SHA-256 (an edited
    zoo block or export module is stale); the versions: each recorded package's installed
    version must be the recorded one (a package not installed here is not compared, see
    :func:`unchecked_packages`); the variants: exactly ``names``."""
    from dla_docs.store import code_unchanged

    why = []
    if not code_unchanged(record["code"]):
        changed = changed_code(record["code"])
        why.append(f"the model or export code changed since it was recorded ({', '.join(changed[:3]) or 'manifest'})")
    installed = installed_versions()
    for package, version in sorted(record["versions"].items()):
        if installed.get(package) is not None and installed[package] != version:
            why.append(f"it records {package} {version}, but {installed[package]} is installed")
    if sorted(record["variants"]) != sorted(names):
        missing = sorted(set(names) - set(record["variants"]))
        extra = sorted(set(record["variants"]) - set(names))
        why.append("variants " + "; ".join(filter(None, [missing and f"missing: {', '.join(missing)}",
                                                          extra and f"unknown: {', '.join(extra)}"])))
    return why


def unchecked_packages(record: dict) -> list[str]:
    installed = installed_versions()
    return sorted(p for p in record["versions"] if installed.get(p) is None)


# -- what --check compares -----------------------------------------------------------------


def verdicts(facts: dict) -> dict[str, Any]:
    """What ``deploy --check`` compares of one variant's facts: every step's outcome (ok, error's
    first line, operator), the ONNX opset, exporter, checker and file size. The measured errors
    themselves vary in their last digits between runs: they are compared by their verdict
    (within :data:`~dla_docs.deploy.rules.TOLERANCE` or not)."""
    onnx = facts.get("onnx", {})
    found: dict[str, Any] = {"image_size": facts.get("image_size")}
    for kind in EXPORT_MODES:
        step = facts.get("torch_export", {}).get(kind, {})
        found[f"torch.export ({kind})"] = (step.get("ok"), step.get("error"), step.get("operator"))
    found["onnx"] = (onnx.get("ok"), onnx.get("error"), onnx.get("operator"))
    for key in ("exporter", "opset", "checker", "size_bytes"):
        found[f"onnx {key}"] = onnx.get(key)
    for size, batch in sorted(onnx.get("batches", {}).items()):
        found[f"onnxruntime batch {size}"] = batch.get("ok")
    step = facts.get("channels_last", {})
    found["channels_last"] = (step.get("ok"), step.get("error"))
    return found


def differences(recorded: dict, measured: dict) -> list[str]:
    """One line per verdict that differs between two facts of one variant."""
    old, new = verdicts(recorded), verdicts(measured)
    return [f"{key}: recorded {_show(old.get(key))}, measured {_show(new.get(key))}"
            for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


def _show(value: Any) -> str:
    return json.dumps(value, default=str)


# -- the pages' view -----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One deploy step of one variant as the pages show it."""

    label: str
    ok: bool
    detail: str  # measured error, or the failure's first line and operator


@dataclass(frozen=True)
class Timing:
    runtime: str
    median_ms: float
    p10_ms: float
    p90_ms: float


@dataclass(frozen=True)
class DeployCard:
    """One variant's deployability, as its card, the family page and the Hub card show it."""

    variant: str
    steps: tuple[Step, ...]
    opset: int | None
    exporter: str
    onnx_bytes: int | None
    timings: tuple[Timing, ...]
    machine: str
    threads: int | None
    runs: str | None  # "10", or "7-10" when the runtimes differ
    load: str
    versions: str
    tolerance: float = TOLERANCE
    batches: tuple[int, ...] = BATCHES
    source: str = RECORD_FILE

    @property
    def works(self) -> bool:
        return all(step.ok for step in self.steps)

    def step(self, label: str) -> Step | None:
        return next((s for s in self.steps if s.label == label), None)

    @property
    def machine_short(self) -> str:
        """The CPU and its cores, for a column heading."""
        return ", ".join(self.machine.split(", ")[:2])

    @property
    def export_ok(self) -> bool:
        return all(s.ok for s in self.steps if s.label.startswith("torch.export"))

    @property
    def onnx_ok(self) -> bool:
        return all(s.ok for s in self.steps if s.label.startswith(("ONNX", "onnxruntime")))

    @property
    def channels_last_ok(self) -> bool:
        return all(s.ok for s in self.steps if s.label == "channels_last")

    @property
    def eager(self) -> Timing | None:
        return next((t for t in self.timings if t.runtime.startswith("pytorch")), None)

    @property
    def onnxruntime(self) -> Timing | None:
        return next((t for t in self.timings if t.runtime.startswith("onnxruntime")), None)


def _error_text(step: dict) -> str:
    if step.get("ok") is None and not step:
        return "not measured"
    if step.get("error"):
        op = f" (operator: {step['operator']})" if step.get("operator") else ""
        return f"{step['error']}{op}".replace("|", "/").replace("`", "'")  # one Markdown table cell
    if "relative" in step:
        return f"max abs {step['max_abs']:.1e}, relative {step['relative']:.1e}"
    return ""


def machine_line(machine: dict) -> str:
    return f"{machine.get('cpu', 'unknown CPU')}, {machine.get('cores', '?')} cores, {machine.get('os', '')}".strip(", ")


def _runs(rows: list[dict]) -> str | None:
    """How many timed runs the rows' figures are medians of: ``"10"``, or ``"7-10"`` when the
    runtimes differ (the latency pass stops a runtime's runs at a time budget)."""
    counts = sorted({r["runs"] for r in rows if r.get("runs") is not None})
    if not counts:
        return None
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"

def deploy_cards(record: dict | None) -> dict[str, DeployCard]:
    """Each recorded variant's :class:`DeployCard` (none without a record)."""
    if record is None:
        return {}
    machine = machine_line(record["machine"])
    versions = ", ".join(f"{p} {v}" for p, v in sorted(record["versions"].items()))
    cards = {}
    for name, facts in record["variants"].items():
        onnx = facts.get("onnx", {})
        steps = [Step(f"torch.export ({kind.replace('_', '-')})",
                      bool(facts["torch_export"][kind].get("ok")), _error_text(facts["torch_export"][kind]))
                 for kind in EXPORT_MODES]
        if onnx.get("error") or not onnx.get("batches"):
            steps.append(Step("ONNX export + onnxruntime", False, _error_text(onnx)))
        else:
            steps.append(Step("ONNX export", True, f"onnx.checker passed, opset {onnx.get('opset')}"))
            for size, batch in sorted(onnx["batches"].items(), key=lambda kv: int(kv[0])):
                steps.append(Step(f"onnxruntime, batch {size}", bool(batch.get("ok")), _error_text(batch)))
        steps.append(Step("channels_last", bool(facts["channels_last"].get("ok")), _error_text(facts["channels_last"])))
        rows = [r for r in record["latency"] if r.get("model") == name and r.get("batch_size") == 1]
        timings = tuple(Timing(r["runtime"], r["step_time_ms"], r["p10_ms"], r["p90_ms"]) for r in rows)
        first = rows[0] if rows else {}
        cards[name] = DeployCard(
            variant=name, steps=tuple(steps), opset=onnx.get("opset"), exporter=onnx.get("exporter", ""),
            onnx_bytes=onnx.get("size_bytes"), timings=timings, machine=machine, threads=first.get("threads"),
            runs=_runs(rows), load=", ".join(f"{v:.2f}" for v in first.get("load", [])), versions=versions)
    return cards
