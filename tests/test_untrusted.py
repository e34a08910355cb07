"""Strings from the model-index are text: never HTML, never a link, never template code.

A copy of the project whose dla34 entry holds ``<script>``, an ``onerror=`` attribute, Jinja
``{{ }}``/``{% %}``/``{# #}``, Markdown link and image syntax, a ``javascript:`` URL, table-
breaking ``|`` and backticks, and pre-escaped entities is built for real (``dla-docs build``,
MkDocs included). Each string must read literally in the generated Markdown and in the
built HTML, and nothing in them may become an element, an attribute, a link or a value.
The same site is opened in Chromium by ``test_browser.py``.
"""

from __future__ import annotations

import html
import re

import pytest
from untrusted_helpers import (
    HOSTILE,
    HOSTILE_NAME,
    TEMPLATE,
    VARIANT,
    Page,
    expected_strings,
    hostile_project,
    hostile_template,
)

from dla_docs.metadata import read_template


@pytest.fixture(scope="module")
def project(tmp_path_factory, measurements):
    return hostile_project(tmp_path_factory, measurements)


def test_the_hostile_values_are_read_exactly_as_written(project):
    """The reader keeps every string verbatim (it is the pages' job to make them inert)."""
    entry = read_template(project / TEMPLATE).index.by_name(VARIANT)
    for field, (_, strings) in HOSTILE.items():
        value = entry.metadata[field].value
        assert (value if isinstance(value, list) else [value]) == strings, field
    assert entry.code == "javascript:alert(1)"


def test_markdown_shows_each_string_literally_and_holds_no_markup_from_it(project):
    card = (project / "docs" / "models" / f"{VARIANT}.md").read_text(encoding="utf-8")
    rows = {}
    for line in card.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in HOSTILE:
            rows[cells[0]] = cells[1]
    assert set(rows) == set(HOSTILE)  # one table row each: no '|' in a value opened a cell
    for field, (_, strings) in HOSTILE.items():
        assert html.unescape(rows[field]) == ", ".join(strings), field
        assert not re.search(r"[<>\[\]`{}|*_!=]", rows[field]), rows[field]  # all escaped as entities
    assert "49" not in rows["Training Time"] and "boom" * 3 not in card
    assert "javascript:" not in card and "http://evil.invalid" not in card and "](javascript" not in card


def test_html_shows_each_string_literally_and_runs_nothing(project):
    page = Page((project / "site" / "models" / f"{VARIANT}.html").read_text(encoding="utf-8"))
    for field, (_, strings) in HOSTILE.items():
        assert page.cell(field) == ", ".join(strings), field
    text = "".join(page.text)
    for string in expected_strings():
        assert string in text
    assert page.cell("Training Time").startswith("{{ 7*7 }}") and "49" not in page.cell("Training Time")
    _assert_inert(page)


def test_a_hostile_variant_name_is_text_on_the_verification_page(project):
    """A Name that is no zoo variant becomes a finding; the finding quotes it as text."""
    page = Page((project / "site" / "verification.html").read_text(encoding="utf-8"))
    assert f"no variant {HOSTILE_NAME!r} in the model zoo" in "".join(page.text)
    _assert_inert(page)
    assert not (project / "docs" / "models" / f"{HOSTILE_NAME}.md").exists()
    assert all("pwned" not in p.name for p in (project / "site").rglob("*"))


def _assert_inert(page: Page) -> None:
    """No script, handler, link, image or frame came from the hostile values."""
    assert not any("__pwned" in s for s in page.script_text)
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, attrs)
            assert "evil.invalid" not in (value or ""), (tag, attrs)
        assert tag not in ("iframe", "object", "embed"), (tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x"), attrs
        assert not (tag == "b" and not attrs), "a <b> from the metadata became an element"


def test_every_generated_file_is_free_of_active_hostile_markup(project):
    """Across all of docs/ and site/, not just the card: no live copy of any payload."""
    active = [re.compile(p) for p in (r"<script>window\.__pwned", r"onerror=\"window", r"href=\"?javascript:",
                                      r"\]\(javascript:", r"onmouseover=\"window", r"src=\"?http://evil\.invalid")]
    for folder in ("docs", "site"):
        for path in (project / folder).rglob("*"):
            if path.suffix in (".md", ".html", ".yml"):
                content = path.read_text(encoding="utf-8")
                for pattern in active:
                    assert not pattern.search(content), (path, pattern.pattern)


def test_the_template_fixture_carries_every_payload():
    """Guard for the fixture itself: the hostile template really holds each string."""
    from conftest import PROJECT

    text = hostile_template((PROJECT / TEMPLATE).read_text(encoding="utf-8"))
    for string in expected_strings():
        assert string.replace("'", "''") in text or string in text
    assert HOSTILE_NAME in text
