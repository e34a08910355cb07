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


def build_date(site) -> str:
    """The build date a site was built with (MkDocs' ``SOURCE_DATE_EPOCH``, as the day it
    names), as its ``sitemap.xml.gz`` records it: the gzip header's modification time."""
    import struct

    return str(struct.unpack("<I", (site / "sitemap.xml.gz").read_bytes()[4:8])[0])


def test_the_site_is_the_one_a_plain_mkdocs_build_writes(built_project, tmp_path):
    """The site must be byte for byte what ``mkdocs build`` makes of the same docs/ and
    mkdocs.yml, search index and sitemap included (``dla-docs build`` adds no plugin of its own)."""
    import os
    import subprocess
    import sys

    plain = tmp_path / "plain"
    env = {"SOURCE_DATE_EPOCH": build_date(built_project / "site"), "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(plain)],
                          cwd=built_project, capture_output=True, text=True, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    ours, theirs = read_tree(built_project / "site"), read_tree(plain)
    assert ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert any(b"<svg" in data for name, data in ours.items() if name.endswith(".html"))
