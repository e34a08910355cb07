"""Zensical as the site builder: its failures are one line, and a missing Zensical is named."""

from __future__ import annotations

import pytest

from dla_docs.errors import ToolMissingError
from dla_docs.publish import zensical
from dla_docs.publish.zensical import ZensicalBuildError, build_zensical


def _tiny_site(root, page: str):
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(page, encoding="utf-8")
    (root / "mkdocs.yml").write_text("site_name: tiny\ndocs_dir: docs\nsite_dir: site\n"
                                     "theme:\n  name: material\n", encoding="utf-8")
    return root / "mkdocs.yml"


def test_a_broken_link_fails_the_strict_build_with_one_line(tmp_path):
    config = _tiny_site(tmp_path, "# Tiny\n\n[gone](missing-page.md)\n")
    with pytest.raises(ZensicalBuildError) as caught:
        build_zensical(config, "0")
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message
    assert "index.md:3" in message and "does not exist" in message and zensical.zensical_version() in message


def test_a_clean_site_builds(tmp_path):
    config = _tiny_site(tmp_path, "# Tiny\n\nNothing broken.\n")
    build_zensical(config, "0")
    assert "Nothing broken." in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_without_zensical_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(zensical, "find_spec", lambda name: None)
    with pytest.raises(ToolMissingError, match="pip install zensical"):
        build_zensical(_tiny_site(tmp_path, "# Tiny\n"), "0")
