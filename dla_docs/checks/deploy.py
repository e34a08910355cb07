"""The committed deploy record against the code and the installed packages, without running it.

``verify`` reports the record (``data/deploy_dla.json``) as drift, in one finding naming the
file and ``dla-docs deploy``, when the model or export code it was produced by changed, when
a recorded package version is not the installed one, when it lacks a variant, or when it
cannot be read. Torch-free: nothing is exported or imported for this; re-running the exports
is ``dla-docs deploy --check``'s job. A project without a record has nothing to check.
"""

from __future__ import annotations

from pathlib import Path

from dla_docs.checks.findings import Finding
from dla_docs.errors import DlaDocsError, Location


def deploy_findings(root: Path, names: list[str]) -> tuple[list[Finding], list[str]]:
    """``(findings, notes)`` for the project's deploy record."""
    from dla_docs.deploy import record as rec

    where = Location(rec.RECORD_FILE)
    try:
        record = rec.read_record(root)
    except (rec.RecordError, DlaDocsError) as exc:
        return [Finding("stale-page", None, "deploy record", f"unreadable ({exc}); run `{rec.COMMAND}`",
                        where)], []
    if record is None:
        return [], []
    why = rec.staleness(record, names)
    findings = [Finding("stale-page", None, "deploy record", f"stale: {'; '.join(why)}; run `{rec.COMMAND}`",
                        where)] if why else []
    unchecked = rec.unchecked_packages(record)
    notes = [f"{rec.RECORD_FILE}: recorded versions of {', '.join(unchecked)} not checked (not installed)"] \
        if unchecked else []
    return findings, notes
