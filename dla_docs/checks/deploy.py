"""The committed deploy record against the code and the installed packages, without running it.

``verify`` reports the record (``data/deploy_dla.json``) as drift, in one finding naming the
file and ``dla-docs deploy``, when the model or export code it was produced by changed, when
a recorded package version is not the installed one, when it lacks a variant, or when it
cannot be read. Torch-free: nothing is exported or imported for this; re-running the exports
is ``dla-docs deploy --check``'s job. A project without a record has nothing to check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dla_docs.checks.findings import Finding
from dla_docs.errors import Location

if TYPE_CHECKING:
    from dla_docs.inputs import DeployRecord


def deploy_findings(read: DeployRecord, names: list[str]) -> tuple[list[Finding], list[str]]:
    """``(findings, notes)`` for the project's deploy record, as read with the other inputs."""
    from dla_docs.deploy import record as rec

    where = Location(rec.RECORD_FILE)
    if read.error is not None:
        return [Finding("stale-page", None, "deploy record", f"unreadable ({read.error}); run `{rec.COMMAND}`",
                        where)], []
    record = read.record
    if record is None:
        return [], []
    why = rec.staleness(record, names)
    findings = [Finding("stale-page", None, "deploy record", f"stale: {'; '.join(why)}; run `{rec.COMMAND}`",
                        where)] if why else []
    unchecked = rec.unchecked_packages(record)
    notes = [f"{rec.RECORD_FILE}: recorded versions of {', '.join(unchecked)} not checked (not installed)"] \
        if unchecked else []
    return findings, notes
