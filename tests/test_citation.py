"""CITATION.cff: valid against the CFF 1.2.0 schema, fresh, and equal field by field to the site's BibTeX.

The schema is the official one (shipped in tests/data/cff, validated with jsonschema), and the
BibTeX is read back from the committed pages (which test_pages keeps fresh) by a parser here,
so the two renderings of the citation records are compared with each other, not with the code
that made them.
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
import yaml
from conftest import DATA, PROJECT

CFF = PROJECT / "CITATION.cff"
SCHEMA = json.loads((DATA / "cff" / "schema-1.2.0.json").read_text(encoding="utf-8"))
BIBTEX_BLOCK = re.compile(r"^```BibTeX\n(.*?)^```", re.M | re.S)


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def cff() -> dict:
    return yaml.safe_load(CFF.read_text(encoding="utf-8"))


def parse_bibtex(text: str) -> dict[str, dict[str, str]]:
    """Entries of a BibTeX text: key -> {'ENTRYTYPE': type, field: value}, braces balanced."""
    entries = {}
    for match in re.finditer(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text):
        entry = {"ENTRYTYPE": match.group(1).lower()}
        pos = match.end()
        while True:
            field = re.compile(r"\s*(\w+)\s*=\s*\{").match(text, pos)
            if not field:
                break
            depth, i = 1, field.end()
            while depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            entry[field.group(1).lower()] = text[field.end():i - 1]
            pos = i
            comma = re.compile(r"\s*,").match(text, pos)
            if comma:
                pos = comma.end()
        entries[match.group(2)] = entry
    return entries


def site_bibtex() -> dict[str, dict[str, str]]:
    entries: dict[str, dict[str, str]] = {}
    for page in [PROJECT / "docs" / "index.md", *sorted((PROJECT / "docs" / "models").glob("*.md"))]:
        for block in BIBTEX_BLOCK.findall(page.read_text(encoding="utf-8")):
            for key, entry in parse_bibtex(block).items():
                assert entries.setdefault(key, entry) == entry, f"{page.name}: {key} differs from another page"
    return entries


def test_citation_cff_is_valid_cff_1_2_0():
    data = cff()
    errors = sorted(validator().iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert data["cff-version"] == "1.2.0"
    assert data["preferred-citation"]["title"] == "Deep Layer Aggregation"
    assert [r["title"] for r in data["references"]] == ["Res2Net: A New Multi-Scale Backbone Architecture",
                                                        "PyTorch Image Models"]


@pytest.mark.parametrize("break_it", [
    lambda d: d.pop("authors"),
    lambda d: d["preferred-citation"].update(doi="not a doi"),
    lambda d: d["preferred-citation"].update(type="paper"),
    lambda d: d["references"][0].update(year=""),
    lambda d: d["references"][1]["authors"][0].update(orcid="0000"),
])
def test_the_schema_check_rejects_a_broken_file(break_it):
    """The validator is not vacuous: each of these breaks is caught."""
    data = copy.deepcopy(cff())
    break_it(data)
    assert list(validator().iter_errors(data))


def test_citation_cff_is_fresh():
    from dla_docs.render.citations import citation_cff

    assert CFF.read_text(encoding="utf-8") == citation_cff(PROJECT), \
        "CITATION.cff is stale: run `dla-docs export cff` and commit it"


def _authors(bibtex_authors: str) -> list[dict[str, str]]:
    people = []
    for name in bibtex_authors.split(" and "):
        family, given = (part.strip() for part in name.split(",", 1))
        people.append({"family-names": family, "given-names": given})
    return people


def _expected_cff(entry: dict[str, str]) -> dict:
    """The CFF fields a BibTeX entry says, field by field; every BibTeX field must map to one."""
    mapping = {
        "title": ("title", str), "year": ("year", int), "booktitle": ("collection-title", str),
        "journal": ("journal", str), "volume": ("volume", int), "number": ("issue", str), "doi": ("doi", str),
        "url": ("url", str),
    }
    out: dict = {}
    for field, value in entry.items():
        if field == "ENTRYTYPE":
            continue
        if field == "author":
            out["authors"] = _authors(value)
        elif field == "pages":
            start, end = value.split("--")
            out["start"], out["end"] = int(start), int(end)
        elif field == "publisher":
            out["publisher"] = {"name": value}
        elif field == "howpublished":
            out["repository-code"] = re.fullmatch(r"\\url\{(.*)\}", value).group(1)
        else:
            assert field in mapping, f"BibTeX field {field!r} has no CFF counterpart"
            name, kind = mapping[field]
            out[name] = kind(value)
    return out


@pytest.mark.parametrize("key, where", [("yu2018deep", "preferred-citation"), ("gao2021res2net", 0),
                                        ("rw2019timm", 1)])
def test_cff_equals_the_site_bibtex_field_by_field(key, where):
    data = cff()
    ref = data["preferred-citation"] if where == "preferred-citation" else data["references"][where]
    entry = site_bibtex()[key]
    expected = _expected_cff(entry)
    type_of = {"inproceedings": "conference-paper", "article": "article", "misc": "software"}
    assert ref["type"] == type_of[entry["ENTRYTYPE"]]
    shown = {k: v for k, v in ref.items() if k not in ("type", "collection-type")}
    assert shown == expected


def test_site_shows_the_cvpr_paper_and_the_recorded_preprint():
    entries = site_bibtex()
    assert entries["yu2018deep"]["booktitle"].startswith("Proceedings of the IEEE Conference on Computer Vision")
    assert entries["yu2019deep"] == {"ENTRYTYPE": "misc", "title": "Deep Layer Aggregation",
                                     "author": "Yu, Fisher and Wang, Dequan and Shelhamer, Evan and Darrell, Trevor",
                                     "year": "2019", "eprint": "1707.06484", "archiveprefix": "arXiv",
                                     "primaryclass": "cs.CV"}


def test_export_cff_writes_the_committed_file_where_told(tmp_path):
    from dla_docs.cli import main

    target = tmp_path / "out.cff"
    assert main(["--project", str(PROJECT), "export", "cff", "-o", str(target)]) == 0
    assert target.read_bytes() == CFF.read_bytes()


def test_export_cff_into_a_missing_folder_is_one_line(tmp_path, capsys):
    from dla_docs.cli import main

    assert main(["--project", str(PROJECT), "export", "cff", "-o", str(tmp_path / "no" / "CITATION.cff")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]
    assert not (tmp_path / "no").exists()


def test_verify_reports_a_stale_citation_cff(tmp_path, measurements, capsys):
    from dla_docs.cli import main

    from conftest import copy_project

    root = copy_project(tmp_path / "project", measurements)
    (root / "CITATION.cff").write_bytes(CFF.read_bytes())
    assert main(["--project", str(root), "verify"]) == 0
    capsys.readouterr()
    stale = CFF.read_text(encoding="utf-8").replace("start: 2403", "start: 2404")
    (root / "CITATION.cff").write_text(stale, encoding="utf-8")
    assert main(["--project", str(root), "verify"]) == 1
    out = capsys.readouterr().out
    assert "CITATION.cff" in out and "dla-docs export cff" in out and "-  start: 2404" in out
