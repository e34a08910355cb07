"""Measurements as text for people (a table) and for programs (JSON); no counting here."""

from __future__ import annotations

import json
from collections.abc import Mapping

from dla_docs.measure.conventions import MODEL_INDEX
from dla_docs.measure.facts import Measurement
from dla_docs.render.formatting import megabytes, millions


def measurement_record(m: Measurement) -> dict[str, object]:
    """The public JSON form of a measurement (per-module counts stay internal)."""
    record = m.to_dict()
    del record["variant"], record["modules"]
    return record


def measurements_json(results: Mapping[str, Measurement]) -> str:
    return json.dumps({name: measurement_record(m) for name, m in results.items()}, indent=2) + "\n"


def measurements_table(results: Mapping[str, Measurement]) -> str:
    header = ("variant", "params", "GMACs", f"FLOPs ({MODEL_INDEX.name})", "activations", "checkpoint", "skipped ops")
    rows = [header]
    for name, m in results.items():
        skipped = ", ".join(f"{op.split('::')[-1]} x{n}" for op, n in m.skipped_ops.items())
        rows.append((
            name,
            millions(m.parameters),
            f"{m.macs / 1e9:.3f}",
            f"{m.flops(MODEL_INDEX):,}",
            millions(m.activations),
            megabytes(m.checkpoint_bytes),
            skipped or "-",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {1, 2, 3, 4, 5}
    lines = [
        "  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    size = next(iter(results.values())).image_size if results else 0
    lines.append("")
    lines.append(f"Input 1x3x{size}x{size}. MACs are fvcore's count (one multiply-add = one 'flop');")
    lines.append("FLOPs (model-index) add pooling outputs and classifier bias, as published. MB = 10^6 bytes.")
    return "\n".join(lines)


def diff_text(diff) -> str:
    """A :class:`~dla_docs.measure.diff.VariantDiff` for people."""

    def value(v: object) -> str:
        if isinstance(v, bool) or not isinstance(v, int):
            return "-" if v is None else str(v)
        return f"{v:,}"

    def delta(a: object, b: object) -> str:
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and a:
            return f"{(b - a) / a:+.1%}"
        return ""

    lines = [f"{diff.a} -> {diff.b} (input {diff.image_size}x{diff.image_size})", "", "configuration:"]
    lines += [f"  {c.name}: {value(c.a)} -> {value(c.b)}" for c in diff.config] or ["  (identical)"]
    rows = [("", diff.a, diff.b, "change")]
    rows += [(c.name, value(c.a), value(c.b), delta(c.a, c.b)) for c in diff.totals]
    for level in diff.levels:
        for c in (level.parameters, level.macs, level.receptive_field):
            rows.append((f"{level.name} {c.name}", value(c.a), value(c.b), delta(c.a, c.b)))
    rows += [(f"peak bytes, {c.name}", value(c.a), value(c.b), delta(c.a, c.b)) for c in diff.memory]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines.append("")
    lines += ["  ".join([r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in (1, 2, 3)]).rstrip() for r in rows]
    return "\n".join(lines)


def diff_json(diff) -> str:
    return json.dumps(diff.to_dict(), indent=2) + "\n"


def build_lines(built, settings, builder: str, strict: bool) -> list[tuple[str, bool]]:
    """What ``dla-docs build`` prints of a :class:`~dla_docs.run.Built`: each finding (a warning, an
    error with ``strict``), each note, then the closing line; ``True`` for standard error."""
    from dla_docs.checks.findings import finding_line
    from dla_docs.errors import one_line

    lines = [(f"{'error' if strict else 'warning'}: {finding_line(f)}", True) for f in built.report.findings]
    lines += [(f"dla-docs: note: {one_line(note)}", True) for note in built.report.notes]
    return lines + [(build_summary(built, settings, builder), built.published is None)]


def build_summary(built, settings, builder: str) -> str:
    """The closing line of ``dla-docs build``."""
    from dla_docs.fs import shown

    findings = len(built.report.findings)
    if built.published is None:
        return f"dla-docs build: {findings} finding(s) with --strict; nothing written"
    docs, site = (shown(folder, settings.root) for folder in (settings.docs_dir, settings.site_dir))
    if built.published.up_to_date:
        done = f"{docs}/ ({built.published.docs_files} files) and {site}/ ({builder}) are up to date, nothing written"
    else:
        done = f"{built.published.docs_files} files in {docs}/" + (
            f", site built in {site}/ by {builder}" if built.published.site_built else " (site not built)")
    return f"dla-docs build: {done}; {findings} metadata finding(s)"


def deploy_lines(deployed, check: bool) -> list[tuple[str, bool]]:
    """What ``dla-docs deploy`` prints of a :class:`~dla_docs.deploy.running.Deployed`: a table of
    the facts, then the differences (``--check``) and the closing line; ``True`` for standard error."""
    from dla_docs.deploy.rules import TOLERANCE
    from dla_docs.errors import one_line

    def verdict(step: dict) -> str:
        if step.get("error"):
            return "FAILED" + (f" ({step['operator']})" if step.get("operator") else "")
        return f"{'ok' if step.get('ok') else 'DIFFERS'} {step.get('relative', 0.0):.0e}"

    header = ("variant", "export non-strict", "onnx (opset, MB)", "onnxruntime b1 / b4",
              "channels_last")
    rows = [header]
    for name, facts in deployed.facts.items():
        onnx = facts["onnx"]
        batches = onnx.get("batches", {})
        rows.append((name, verdict(facts["torch_export"]["non_strict"]),
                     verdict(onnx) if onnx.get("error") else f"ok ({onnx['opset']}, {onnx['size_bytes'] / 1e6:.1f})",
                     " / ".join(verdict(b) for _, b in sorted(batches.items())) or "-",
                     verdict(facts["channels_last"])))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = [("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip(), False) for row in rows]
    lines += [(f"dla-docs deploy: error: {one_line(d)}", True) for d in deployed.differences]
    where = deployed.path.name
    if check:
        closing = (f"dla-docs deploy --check: {len(deployed.facts)} variant(s) match {where} (relative tolerance "
                   f"{TOLERANCE:g})" if deployed.ok else
                   f"dla-docs deploy --check: {len(deployed.differences)} difference(s) from {where}; "
                   "run `dla-docs deploy` to record the new facts")
    else:
        closing = f"dla-docs deploy: {len(deployed.facts)} variant(s) recorded in {where}"
    return lines + [(closing, not deployed.ok)]
