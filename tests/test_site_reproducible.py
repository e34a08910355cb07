"""A full site build is reproducible, and a second build with nothing changed writes nothing."""

from __future__ import annotations

import pytest
from conftest import copy_project, read_tree

pytestmark = pytest.mark.slow


def test_two_builds_give_byte_identical_sites(built_project, tmp_path_factory, measurements):
    from dla_docs.cli import main

    other = copy_project(tmp_path_factory.mktemp("again") / "project", measurements)
    assert main(["--project", str(other), "build"]) == 0
    first, second = read_tree(built_project / "site"), read_tree(other / "site")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    assert read_tree(built_project / "docs") == read_tree(other / "docs")


def test_a_second_build_with_nothing_changed_writes_nothing(built_project, capsys):
    from dla_docs.cli import main

    site = built_project / "site"
    before = {path: path.stat().st_mtime_ns for path in site.rglob("*")}
    contents = read_tree(site)
    capsys.readouterr()
    assert main(["--project", str(built_project), "build"]) == 0
    assert "are up to date, nothing written" in capsys.readouterr().out
    assert {path: path.stat().st_mtime_ns for path in site.rglob("*")} == before
    assert read_tree(site) == contents
