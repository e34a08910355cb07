"""Parsed model-index blocks kept in the store (:mod:`dla_docs.metadata.stored`): a kept index is
the one the reader parses, and an edited text, a tampered entry or a bad block is parsed (and
reported) again."""

from __future__ import annotations

import json

import pytest
from verify_helpers import COMMITTED, FIXTURES, fixture_text, make_project, verify_json

from dla_docs.metadata import ModelIndexError, parse_template, read_template, reader
from dla_docs.metadata.stored import ParsedIndexes
from dla_docs.store import IndexShelf, SealedFolder

PARSED = [COMMITTED, FIXTURES / "two_models.md", FIXTURES / "wild.md", FIXTURES / "unknown.md"]


@pytest.fixture
def shelf(tmp_path) -> IndexShelf:
    return IndexShelf(SealedFolder(tmp_path / "cache"))


def no_parsing(monkeypatch) -> None:
    def refused(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(reader, "parse_index", refused)


@pytest.mark.parametrize("path", PARSED, ids=lambda p: p.name)
def test_a_kept_index_is_the_one_the_reader_parses(path, shelf, monkeypatch):
    fresh = read_template(path)  # the oracle: the reader itself, no store
    parsed = ParsedIndexes(shelf)
    assert read_template(path, parsed=parsed) == fresh
    assert not list(shelf.folder.root.rglob("index/*.json"))  # nothing kept before keep()
    parsed.keep()
    no_parsing(monkeypatch)
    kept = read_template(path, parsed=ParsedIndexes(shelf))
    assert kept == fresh and repr(kept) == repr(fresh)  # repr: 1 and 1.0 differ there, not under ==


def test_an_edited_text_is_parsed_again(shelf):
    text = fixture_text("two_models.md")
    parsed = ParsedIndexes(shelf)
    parse_template(text, COMMITTED, parsed=parsed)
    parsed.keep()
    edited = text.replace("FLOPs: 544052200", "FLOPs: 544052207")
    assert edited != text
    again = parse_template(edited, COMMITTED, parsed=ParsedIndexes(shelf))
    assert again == parse_template(edited, COMMITTED)
    assert again.index.models[1].metadata["FLOPs"].value == 544052207


def test_a_tampered_or_ill_typed_entry_is_parsed_again(shelf, monkeypatch):
    text = fixture_text("two_models.md")
    fresh = parse_template(text, COMMITTED)
    parsed = ParsedIndexes(shelf)
    parse_template(text, COMMITTED, parsed=parsed)
    parsed.keep()
    [entry] = shelf.folder.root.rglob("index/*.json")
    head, _, payload = entry.read_bytes().partition(b"\n")
    data = json.loads(payload)
    data["models_line"] = "7"  # sealed by the store's own key, but not a record: a miss
    shelf.put(entry.stem, data)
    assert parse_template(text, COMMITTED, parsed=ParsedIndexes(shelf)) == fresh
    entry.write_bytes(head + b"\n" + payload.replace(b'"models_line":', b'"models_line": ', 1))  # seal broken
    calls = []
    real = reader.parse_index
    monkeypatch.setattr(reader, "parse_index", lambda *a: calls.append(1) or real(*a))
    assert parse_template(text, COMMITTED, parsed=ParsedIndexes(shelf)) == fresh and calls == [1]


def test_a_bad_block_is_never_kept_and_fails_the_same_way(shelf):
    path = FIXTURES / "problems.md"
    with pytest.raises(ModelIndexError) as plain:
        read_template(path)
    for _ in range(2):
        parsed = ParsedIndexes(shelf)
        with pytest.raises(ModelIndexError) as stored:
            read_template(path, parsed=parsed)
        parsed.keep()
        assert str(stored.value) == str(plain.value)
    assert not list(shelf.folder.root.rglob("index/*.json"))


def test_verify_after_a_warm_run_reports_a_template_edited_since(tmp_path, measurements, capsys):
    root = make_project(tmp_path / "p", {"t.md": fixture_text("two_models.md")})
    code, first, err = verify_json(root, capsys)
    assert list((root / ".cache" / "index").glob("*.json")), err  # the block is kept
    code, warm, err = verify_json(root, capsys)
    assert warm == first, err  # the kept index checks as the parsed one
    template = root / "t.md"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace("FLOPs: 544052200", "FLOPs: 544052207"), encoding="utf-8")
    code, edited, err = verify_json(root, capsys)
    assert edited != warm
    assert "544052207" in json.dumps(edited) and "544052207" not in json.dumps(warm)
