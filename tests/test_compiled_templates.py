"""Compiled page templates kept in the sealed measurement cache (render/compiled.py)."""

from __future__ import annotations

import json

import jinja2
import pytest

from dla_docs.render.compiled import keep_compiled, remember_compiled
from dla_docs.render.templating import environment, load_template, render_template
from dla_docs.store import SealedFolder, Store


@pytest.fixture
def project(tmp_path):
    templates = tmp_path / "templates"
    (templates / "pages").mkdir(parents=True)
    (templates / "pages" / "page.md").write_text("# {{ title }}\n{% include 'pages/part.md' %}")
    (templates / "pages" / "part.md").write_text("{{ title | upper }} part\n")
    return tmp_path


def _names_passed_to(monkeypatch, method: str) -> list:
    """The template name of every call of ``jinja2.Environment.<method>`` from now on."""
    seen = []
    real = getattr(jinja2.Environment, method)

    def counting(self, source, name=None, *args, **kwargs):
        seen.append(name)
        return real(self, source, name, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, method, counting)
    return seen


@pytest.fixture
def compiles(monkeypatch):
    """Every template Jinja compiles from source (not loaded from a cache)."""
    return _names_passed_to(monkeypatch, "compile")


def _render(project, readable=True, succeeded=True):
    env = environment(project / "templates", project)
    keep_compiled(env, Store(SealedFolder(project / "cache", readable=readable)).templates)
    text = render_template(env, "pages/page.md", title="dla34")
    if succeeded:
        remember_compiled(env)
    return text


def test_nothing_is_kept_until_the_command_succeeded(project, compiles):
    _render(project, succeeded=False)
    assert not (project / "cache" / "jinja").exists()
    _render(project)
    assert len(compiles) == 4 and len(list((project / "cache" / "jinja").glob("*.json"))) == 2


def test_a_second_environment_renders_from_the_kept_code(project, compiles):
    assert _render(project) == "# dla34\nDLA34 part\n"
    assert sorted(compiles) == ["pages/page.md", "pages/part.md"]
    compiles.clear()
    assert _render(project) == "# dla34\nDLA34 part\n"
    assert compiles == []


def test_an_edited_template_is_compiled_again(project, compiles):
    _render(project)
    (project / "templates" / "pages" / "part.md").write_text("{{ title }} changed\n")
    compiles.clear()
    assert _render(project) == "# dla34\ndla34 changed\n"
    assert compiles == ["pages/part.md"]


def test_a_tampered_or_unreadable_entry_is_compiled_again(project, compiles):
    _render(project)
    entries = sorted((project / "cache" / "jinja").glob("*.json"))
    assert len(entries) == 2
    head, _, payload = entries[0].read_bytes().partition(b"\n")
    code = json.loads(payload)
    entries[0].write_bytes(head + b"\n" + json.dumps("AAAA" + code[4:]).encode())  # other code under the old seal
    compiles.clear()
    assert _render(project) == "# dla34\nDLA34 part\n"
    assert len(compiles) == 1
    compiles.clear()
    _render(project, readable=False)  # as in CI: never read
    assert len(compiles) == 2


@pytest.fixture
def parses(monkeypatch):
    """Every template source Jinja parses (to compile it or to follow its includes)."""
    return _names_passed_to(monkeypatch, "_parse")


def test_unchanged_templates_are_neither_parsed_nor_compiled_again(project, parses):
    _render(project)
    assert sorted(parses) == ["pages/page.md", "pages/page.md", "pages/part.md", "pages/part.md"]  # compile + includes
    parses.clear()
    assert _render(project) == "# dla34\nDLA34 part\n"
    assert parses == []


def test_an_include_edited_to_a_missing_template_is_still_refused(project, parses):
    from dla_docs.errors import InputError

    _render(project)
    (project / "templates" / "pages" / "part.md").write_text("{% include 'pages/gone.md' %}\n")
    with pytest.raises(InputError, match=r"pages/part\.md:1: include: included template 'pages/gone\.md' not found"):
        _render(project)


def test_a_tampered_include_list_is_not_believed(project):
    """An include list under the old seal but naming nothing: the includes are followed again."""
    from dla_docs.errors import InputError

    _render(project)
    (project / "templates" / "pages" / "part.md").unlink()
    for entry in (project / "cache" / "jinja-includes").glob("*.json"):
        head, _, _ = entry.read_bytes().partition(b"\n")
        entry.write_bytes(head + b"\n[]")
    env = environment(project / "templates", project)
    keep_compiled(env, Store(SealedFolder(project / "cache")).templates)
    with pytest.raises(InputError, match="included template 'pages/part.md' not found"):
        load_template(env, "pages/page.md")  # the check alone, before anything renders


def test_one_environment_follows_an_edited_include_again(project):
    """A process's one environment remembers a check only while the files it followed are unchanged,
    so no result depends on what an earlier command (or test) loaded."""
    import os

    from dla_docs.errors import InputError

    env = environment(project / "templates", project)
    load_template(env, "pages/page.md")
    part = project / "templates" / "pages" / "part.md"
    part.write_text("{% include 'pages/gone.md' %}\n")
    os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 1_000_000_000))
    with pytest.raises(InputError, match="included template 'pages/gone.md' not found"):
        load_template(env, "pages/page.md")
