"""Publishing mechanics: path safety, atomic swap, the build lock, all-or-nothing publish."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import read_tree

from dla_docs.config import load_settings
from dla_docs.errors import OutputError
from dla_docs.publish.site import (
    SiteBuildError,
    build_lock,
    publish,
    swap_in,
    write_tree,
)

MKDOCS = textwrap.dedent("""\
    site_name: test
    docs_dir: docs
    site_dir: site
    use_directory_urls: false
    validation:
      links:
        not_found: warn
    """)


@pytest.mark.parametrize("name", ["../escape.md", "/etc/passwd", "a/../../b.md", "", "a\\..\\b"])
def test_write_tree_refuses_paths_leaving_the_folder(tmp_path, name):
    with pytest.raises(OutputError, match="refusing"):
        write_tree(tmp_path / "out", {name: b"x"})
    assert not (tmp_path / "escape.md").exists()


def test_swap_in_exchanges_folders(tmp_path):
    write_tree(tmp_path / "new", {"a.md": b"new"})
    write_tree(tmp_path / "docs", {"a.md": b"old", "b.md": b"old"})
    swap_in(tmp_path / "new", tmp_path / "docs")
    assert read_tree(tmp_path / "docs") == {"a.md": b"new"}
    assert read_tree(tmp_path / "new") == {"a.md": b"old", "b.md": b"old"}


def test_swap_in_creates_missing_target(tmp_path):
    write_tree(tmp_path / "new", {"a.md": b"new"})
    swap_in(tmp_path / "new", tmp_path / "docs")
    assert read_tree(tmp_path / "docs") == {"a.md": b"new"}


def test_second_holder_of_the_build_lock_gets_a_clear_error(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from dla_docs.publish.site import build_lock\n"
         f"with build_lock(Path({str(tmp_path)!r})):\n    print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match="another dla-docs build is running"):
            with build_lock(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with build_lock(tmp_path):  # released when its holder died
        pass


def _project(tmp_path, mkdocs=MKDOCS):
    (tmp_path / "mkdocs.yml").write_text(mkdocs)
    (tmp_path / "pyproject.toml").write_text("[tool.dla-docs]\n")
    return load_settings(tmp_path)


def test_publish_replaces_docs_and_site(tmp_path):
    settings = _project(tmp_path)
    publish(settings, {"index.md": b"# Hello\n"})
    assert read_tree(tmp_path / "docs") == {"index.md": b"# Hello\n"}
    assert (tmp_path / "site" / "index.html").is_file()
    assert not list(tmp_path.glob(".dla-docs-staging-*"))


def test_failed_site_build_changes_nothing(tmp_path):
    settings = _project(tmp_path)
    publish(settings, {"index.md": b"# Hello\n"})
    before_docs, before_site = read_tree(tmp_path / "docs"), read_tree(tmp_path / "site")
    with pytest.raises(SiteBuildError, match="missing.md"):
        publish(settings, {"index.md": b"# Changed\n\n[broken](missing.md)\n"})
    assert read_tree(tmp_path / "docs") == before_docs
    assert read_tree(tmp_path / "site") == before_site
    assert not list(tmp_path.glob(".dla-docs-staging-*"))


def test_publish_refuses_mkdocs_folders_that_disagree_with_settings(tmp_path):
    settings = _project(tmp_path, MKDOCS.replace("docs_dir: docs", "docs_dir: other"))
    with pytest.raises(Exception, match="docs_dir"):
        publish(settings, {"index.md": b"x"})
    assert not (tmp_path / "docs").exists()
