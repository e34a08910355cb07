"""Property-based fuzzing of the model-index reader: whatever the text, our error or a result.

Random mutations of the real template (lines deleted, duplicated, swapped or re-indented;
YAML-significant characters, tabs and odd Unicode inserted; values replaced; the file
truncated) must either read as a :class:`~dla_docs.metadata.Template` or raise
:class:`~dla_docs.errors.InputError` (``ModelIndexError`` is one) whose every line names the
file, and never anything else. Deterministic in CI (``derandomize=True``, no example
database); ``FUZZ_EXAMPLES=5000`` runs a longer search locally.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import PROJECT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dla_docs.errors import InputError
from dla_docs.metadata import METADATA_FIELDS, Template, parse_template
from dla_docs.metadata.values import LIST_FIELDS, MAX_INT

pytestmark = pytest.mark.slow  # part of `make test-all` (and CI), not of the fast `make test`

TEMPLATE = (PROJECT / "templates" / "models" / "dla.md").read_text(encoding="utf-8")
DISPLAY = "fuzz/dla.md"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MESSAGE_LINE = re.compile(rf"{re.escape(DISPLAY)}(:\d+(:\d+)?)?: \S.*")


def _small_template(entries: int = 2) -> str:
    """The real template with its Models list cut to the first ``entries`` (parses ~10x faster)."""
    head, models = TEMPLATE.split("<!--\nModels:\n", 1)
    models, collections = models.split("Collections:\n", 1)
    items = re.split(r"(?m)^(?=- Name: )", models)
    return head + "<!--\nModels:\n" + "".join(items[:entries + 1]) + "Collections:\n" + collections


SMALL = _small_template()
TEXTS = st.sampled_from([SMALL, SMALL, SMALL, TEMPLATE])

# Characters YAML, Markdown comments and our reader treat specially, and Unicode oddities.
SPECIAL = list("\t :'\"!&*%{}[]|>-#@`,?\\\n\r") + ["!!", "<!--", "-->", "---", "...", "\u00e9", "\u2028",
                                                  "\x00", "\x85", "\ufeff", "\U0001f600", "\x1b[31m", "0x", "1e9999"]
FRAGMENTS = st.lists(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=4)), min_size=1, max_size=6).map("".join)


def _lines(text: str) -> list[str]:
    return text.split("\n")


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The template after one to four random edits."""
    text = draw(TEXTS)
    for _ in range(draw(st.integers(1, 4))):
        lines = _lines(text)
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "indent", "value", "truncate", "char"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "insert":
            column = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:column] + draw(FRAGMENTS) + lines[i][column:]
        elif kind == "indent":
            change = draw(st.sampled_from(["  ", " ", "\t", "-", "- "]))
            lines[i] = change + lines[i] if draw(st.booleans()) else lines[i].removeprefix(lines[i][:len(change)])
        elif kind == "value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {draw(VALUES)}"
        elif kind == "truncate":
            text = "\n".join(lines)
            return text[:draw(st.integers(0, len(text)))]
        elif kind == "char" and lines[i]:
            column = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:column] + draw(st.sampled_from(SPECIAL)) + lines[i][column + 1:]
        text = "\n".join(lines)
    return text


SPECIAL_VALUES = ["1e400", "-0", "0", ".inf", "-.inf", ".nan", "1_000", "0x1F", "0o17", "1e999999999", "1e-999999999",
                  "9" * 5000, "9223372036854775808", "true", "no", "~", "null", "''", '""', "[]", "{}", "[1, [2, [3]]]",
                  "{a: {b: c}}", "2001-12-14", "!!binary aGVsbG8=", "!!python/name:os.system", "&a 1", "*a",
                  "|\n  block", ">-\n  folded", "'unclosed", '"\\x00"', "'it''s'", "12%", "101%", "[" * 200,
                  "'\x1b[31mred'", '"a\\nb"', "- x", "? k", "x: y"]
VALUES = st.one_of(
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
    st.sampled_from(SPECIAL_VALUES),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30).map(lambda t: "'" + t.replace("'", "''") + "'"),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
)


def _check(text: str) -> Template | None:
    """Parse ``text``: a Template, or our error with every line naming the file; else fail."""
    try:
        template = parse_template(text, Path(DISPLAY), DISPLAY)
    except InputError as exc:
        lines = str(exc).split("\n")
        assert lines and all(MESSAGE_LINE.fullmatch(line) for line in lines), str(exc)
        return None
    assert isinstance(template, Template)
    for entry in template.index.models:
        for name, located in entry.metadata.items():
            if isinstance(located.value, int) and not isinstance(located.value, bool):
                assert 0 < located.value <= MAX_INT, (name, located.value)
            if name in LIST_FIELDS:
                assert all(isinstance(item, str) for item in located.value)
    return template


@FUZZ
@given(mutated())
def test_mutated_template_gives_a_template_or_our_error(text):
    _check(text)


def _with_value(field: str, value: str) -> str:
    """:data:`SMALL` with ``field`` of its first entry written as ``value``."""
    lines = _lines(SMALL)
    written = [i for i, line in enumerate(lines) if line.startswith(f"    {field}:")]
    if written:
        lines[written[0]] = f"    {field}: {value}"
    else:
        lines.insert(lines.index("  Metadata:") + 1, f"    {field}: {value}")
    return "\n".join(lines)


@FUZZ
@given(st.sampled_from(METADATA_FIELDS), VALUES)
def test_any_metadata_value_gives_a_template_or_our_error(field, value):
    """One metadata value of the first entry replaced by anything YAML can spell."""
    _check(_with_value(field, value))


def test_every_field_with_every_special_value():
    """The cross product, exhaustively: random draws may miss '1e999999999' in an integer
    field, which once expanded digit by digit (minutes) instead of being refused."""
    for field in METADATA_FIELDS:
        for value in SPECIAL_VALUES:
            _check(_with_value(field, value))


def test_the_fuzzer_reaches_both_outcomes():
    """The mutations are neither all harmless nor all fatal: both branches are exercised."""
    outcomes = set()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(mutated())
    def collect(text):
        outcomes.add(_check(text) is not None)

    collect()
    assert outcomes == {True, False}
