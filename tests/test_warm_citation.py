"""The expected CITATION.cff kept with the pages: a warm verify takes it from the store, and an
edit to what it is made of (pyproject.toml's [project]) is reported after a warm run."""

from __future__ import annotations

from conftest import copy_project

from dla_docs.cli import main
from dla_docs.render import citations


def test_a_warm_verify_writes_no_cff_and_an_edited_pyproject_is_reported(tmp_path, measurements, monkeypatch,
                                                                         capsys):
    root = copy_project(tmp_path / "project", measurements)
    assert main(["--project", str(root), "verify"]) == 0  # keeps the expected file
    written = []
    real = citations.citation_cff
    monkeypatch.setattr(citations, "citation_cff", lambda *a, **k: written.append(1) or real(*a, **k))
    assert main(["--project", str(root), "verify"]) == 0
    assert written == []  # taken from the store
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace('version = "0.1.0"', 'version = "0.1.1"', 1),
                         encoding="utf-8")
    capsys.readouterr()
    assert main(["--project", str(root), "verify"]) == 1
    out = capsys.readouterr().out
    assert written == [1] and "CITATION.cff" in out and "+version: 0.1.1" in out.replace("'", "")
