"""No name, template path, include, link or setting makes dla-docs read or write outside the project.

Each test puts a sentinel folder beside the project, holding a secret file, and checks that
the folder is unchanged afterwards and that the secret was copied nowhere. What is allowed
on purpose: ``graph -o FILE`` writes where its user says (an explicit command-line choice,
like a shell redirection), and ``--project`` names the project itself. The names of
generated files are checked by ``site.write_tree`` (``tests/test_site.py``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from conftest import copy_project

from dla_docs.cli import main

TEMPLATE = "templates/models/dla.md"
SECRET = "SECRET-CONTENT-d1a"


@pytest.fixture
def sentinel(tmp_path) -> Path:
    """A folder beside the project with a secret template in it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text(f"# {SECRET}\n", encoding="utf-8")
    return folder


@pytest.fixture
def project(tmp_path, measurements) -> Path:
    return copy_project(tmp_path / "project", measurements)


def state(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err


def assert_untouched(sentinel: Path, before: dict[str, str], project: Path) -> None:
    """The sentinel is as it was, nothing new appeared beside the project, no secret leaked in."""
    assert state(sentinel) == before
    assert sorted(p.name for p in project.parent.iterdir()) == sorted(["outside", "project"])
    for path in project.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path


def test_template_option_outside_the_project_is_read_only(project, sentinel, capsys, monkeypatch):
    """A file the user names is read wherever it is (issue 11, item 12), and nothing is written."""
    before = state(sentinel)
    monkeypatch.chdir(project)
    code, err = run(["verify", "--template", "../outside/secret.md"], capsys)
    assert code == 2 and f"dla-docs: error: {sentinel / 'secret.md'}: model-index: no model-index block" in err
    assert_untouched(sentinel, before, project)


def test_configured_template_that_links_outside_is_refused(project, sentinel, capsys):
    before = state(sentinel)
    (project / TEMPLATE).unlink()
    os.symlink(sentinel / "secret.md", project / TEMPLATE)
    for command in (["verify"], ["build", "--no-site"]):
        code, err = run(["--project", str(project), *command], capsys)
        assert code == 2 and f"tool.dla-docs.templates: path '{TEMPLATE}' is a link to {sentinel / 'secret.md'}" in err
    assert_untouched(sentinel, before, project)


def test_checkpoint_dir_outside_the_project_is_refused(project, sentinel, capsys, monkeypatch):
    before = state(sentinel)
    monkeypatch.chdir(project)
    for folder in ("/tmp", "../outside", str(sentinel)):
        code, err = run(["verify", "--checkpoint-dir", folder], capsys)
        assert code == 2 and f"{folder}: --checkpoint-dir: path" in err and "outside the project" in err, err
    assert_untouched(sentinel, before, project)


@pytest.mark.parametrize("setting, value", [("docs-dir", "../escape"), ("site-dir", "../escape"),
                                            ("cache-dir", "../escape"), ("docs-dir", "/tmp/escape"),
                                            ("templates", ["../outside/secret.md"])])
def test_settings_pointing_outside_are_refused_from_anywhere(project, sentinel, capsys, setting, value, tmp_path,
                                                            monkeypatch):
    """With --project from another folder: the paths are still the project's."""
    before = state(sentinel)
    config = project / "pyproject.toml"
    written = f'"{value}"' if isinstance(value, str) else f'["{value[0]}"]'
    lines = [f"{setting} = {written}" if line.startswith(f"{setting} =") else line
             for line in config.read_text(encoding="utf-8").splitlines()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.chdir(sentinel)
    code, err = run(["--project", str(project), "build", "--no-site"], capsys)
    assert code == 2 and f"tool.dla-docs.{setting}: path" in err and "points outside the project folder" in err
    assert not (tmp_path / "escape").exists() and not Path("/tmp/escape").exists()
    assert_untouched(sentinel, before, project)


@pytest.mark.parametrize("folder", ["docs", "site"])
def test_output_folder_that_is_a_link_outside_is_refused(project, sentinel, capsys, folder):
    """A docs/ or site/ that links elsewhere would be replaced there: refused, nothing written."""
    before = state(sentinel)
    os.symlink(sentinel, project / folder)
    code, err = run(["--project", str(project), "build", "--no-site"], capsys)
    assert code == 2 and f"tool.dla-docs.{folder}-dir: path '{folder}' is a link to {sentinel}" in err
    assert_untouched(sentinel, before, project)


def test_output_folder_linked_onto_the_templates_is_refused(project, capsys):
    """Inside the project, but a build would replace templates/ with the generated pages."""
    os.symlink(project / "templates", project / "docs")
    templates = state(project / "templates")
    code, err = run(["--project", str(project), "build", "--no-site"], capsys)
    assert code == 2 and "tool.dla-docs.docs-dir: 'templates' overlaps the templates folder" in err
    assert state(project / "templates") == templates


def test_include_linked_outside_is_refused_and_not_published(project, sentinel, capsys):
    before = state(sentinel)
    (project / "templates" / "code_snippets.md").unlink()
    os.symlink(sentinel / "secret.md", project / "templates" / "code_snippets.md")
    code, err = run(["--project", str(project), "build", "--no-site"], capsys)
    assert code == 2 and f"include: refused 'code_snippets.md': it is a link to {sentinel / 'secret.md'}" in err
    assert not (project / "docs").exists()
    assert_untouched(sentinel, before, project)


def test_asset_linked_outside_is_refused_and_not_published(project, sentinel, capsys):
    before = state(sentinel)
    os.symlink(sentinel / "secret.md", project / "templates" / "assets" / "notes.md")
    code, err = run(["--project", str(project), "build", "--no-site"], capsys)
    assert code == 2 and "templates/assets/notes.md: asset: is a link to" in err and "outside templates/" in err
    assert not (project / "docs").exists()
    assert_untouched(sentinel, before, project)


def test_graph_output_goes_where_its_user_says(project, sentinel, capsys):
    """Allowed on purpose: -o is an explicit choice on the command line, like '> file'."""
    target = sentinel / "chosen" / "dla34.dot"
    target.parent.mkdir()
    code, err = run(["--project", str(project), "graph", "dla34", "--format", "dot", "-o", str(target)], capsys)
    assert code == 0 and "\ndigraph" in "\n" + target.read_text(encoding="utf-8")
    assert (sentinel / "secret.md").read_text(encoding="utf-8") == f"# {SECRET}\n"
