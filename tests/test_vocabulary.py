"""One vocabulary: the kinds and statuses a record may carry are checked where it is made, and
every convention the pages and the reconciliation show is one declared Convention."""

from __future__ import annotations

import pytest

from dla_docs.checks.findings import FieldCheck, Finding
from dla_docs.errors import Location
from dla_docs.measure.conventions import CONVENTIONS


@pytest.mark.parametrize("status", ["ok", "drift", "not recorded", "not checked"])
def test_a_field_check_takes_each_known_status(status):
    assert FieldCheck("dla34", "FLOPs", 1, 1, status).status == status


def test_a_field_check_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="FieldCheck of unknown kind 'agrees'"):
        FieldCheck("dla34", "FLOPs", 1, 1, "agrees")


def test_a_finding_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="Finding of unknown kind 'stale'"):
        Finding("stale", None, "index.md", "stale", Location("docs/index.md"))


def test_the_reconciliation_columns_are_the_declared_conventions(measurements):
    """Every key a reconciliation row uses is a declared convention's, and each column's total is
    what that convention counts (the settable ones: from the measurement's own counts)."""
    table = measurements["dla34"].flops_reconciliation
    used = {key for term in table.terms for key in term.contributions}
    assert used == {c.key for c in CONVENTIONS}
    for convention in CONVENTIONS:
        if not convention.counter:
            assert table.total(convention) == measurements["dla34"].flops(convention), convention.name


def test_the_pages_label_each_convention_once(generated):
    """The family page's and each card's column headers are the conventions' declared labels."""
    index = generated.files["index.md"].decode()
    card = generated.files["models/dla34.md"].decode()
    header = next(line for line in card.splitlines() if line.startswith("| term |"))
    assert header == "| term | " + " | ".join(c.label for c in CONVENTIONS) + " |"
    for convention in CONVENTIONS:
        assert index.count(f'data-sort-method="number">{convention.label_billions}</th>') == 1
