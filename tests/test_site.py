"""Publishing mechanics: path safety, atomic swap, the build lock, all-or-nothing publish."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import read_tree

from dla_docs.config import load_settings
from dla_docs.errors import OutputError
from dla_docs.publish.journal import build_lock, swap_in
from dla_docs.publish.site import SiteBuildError, publish, write_tree

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
         "import sys, time; from pathlib import Path; from dla_docs.publish.journal import build_lock\n"
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


# -- a warm build leaves an unchanged site alone (dla_docs.publish.uptodate) -----------------


@pytest.fixture
def counted_builds(monkeypatch):
    """How many times the site builder really ran."""
    from dla_docs.publish import site

    calls = []
    real = site.build_mkdocs

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(site, "build_mkdocs", counting)
    return calls


def _stamps(tmp_path, readable=True):
    from dla_docs.store import SealedFolder, Store

    return Store(SealedFolder(tmp_path / "cache", readable=readable)).site


PAGES = {"index.md": b"# Hello\n", "more.md": b"# More\n"}


def test_an_unchanged_site_is_not_built_again(tmp_path, counted_builds):
    settings = _project(tmp_path)
    assert not publish(settings, PAGES, stamps=_stamps(tmp_path)).up_to_date
    before = read_tree(tmp_path / "site")
    again = publish(settings, dict(PAGES), stamps=_stamps(tmp_path))
    assert again.up_to_date and not again.site_built
    assert len(counted_builds) == 1
    assert read_tree(tmp_path / "site") == before


@pytest.mark.parametrize("change", ["edit site file", "add site file", "remove site file", "edit docs file",
                                    "extra docs file", "new pages", "mkdocs.yml", "unreadable stamps", "no stamps"])
def test_any_change_builds_the_site_again(tmp_path, counted_builds, change):
    settings = _project(tmp_path)
    publish(settings, PAGES, stamps=_stamps(tmp_path))
    built = read_tree(tmp_path / "site")
    pages, stamps = dict(PAGES), _stamps(tmp_path)
    if change == "edit site file":
        (tmp_path / "site" / "index.html").write_bytes(b"defaced")
    elif change == "add site file":
        (tmp_path / "site" / "planted.html").write_bytes(b"<script>")
    elif change == "remove site file":
        (tmp_path / "site" / "more.html").unlink()
    elif change == "edit docs file":
        (tmp_path / "docs" / "index.md").write_bytes(b"# Edited\n")
    elif change == "extra docs file":
        (tmp_path / "docs" / "extra.md").write_bytes(b"# Extra\n")
    elif change == "new pages":
        pages["index.md"] = b"# Changed\n"
    elif change == "mkdocs.yml":
        (tmp_path / "mkdocs.yml").write_text(MKDOCS.replace("site_name: test", "site_name: other"))
    elif change == "unreadable stamps":  # as under CI: the cache is written, never read
        stamps = _stamps(tmp_path, readable=False)
    else:
        stamps = None
    result = publish(settings, pages, stamps=stamps)
    assert result.site_built and not result.up_to_date
    assert len(counted_builds) == 2
    assert read_tree(tmp_path / "docs") == pages
    if change in ("edit site file", "add site file", "remove site file", "edit docs file", "extra docs file",
                  "unreadable stamps", "no stamps"):
        assert read_tree(tmp_path / "site") == built  # the same inputs build the same site


def test_a_configuration_reading_the_environment_is_always_built(tmp_path, counted_builds):
    settings = _project(tmp_path, MKDOCS + "site_author: !ENV [AUTHOR, 'nobody']\n")
    for _ in range(2):
        assert publish(settings, PAGES, stamps=_stamps(tmp_path)).site_built
    assert len(counted_builds) == 2


def test_off_the_checked_mkdocs_the_build_stops_with_one_line(tmp_path, monkeypatch):
    """The MkDocs adapter's fallback, forced: another MkDocs version is refused (exit 2), not called."""
    from dla_docs.publish import mkdocs_adapter, site

    monkeypatch.setattr(mkdocs_adapter, "installed_mkdocs", lambda: "1.7.0")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# x\n")
    with pytest.raises(site.SiteBuildError) as caught:
        site.build_mkdocs(tmp_path / "mkdocs.yml", tmp_path / "docs", tmp_path / "site", tmp_path)
    message = str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in message
    assert "MkDocs 1.7.0 is installed, dla-docs builds with MkDocs 1.6.1" in message
    assert not (tmp_path / "site").exists()
