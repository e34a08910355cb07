"""The settings are declared once (``config.SETTINGS``): the README's table is that declaration,
an empty ``[tool.dla-docs]`` takes the documented defaults, and the conventions a project may
configure are the ones a measurement alone can total."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from dla_docs.cli import main
from dla_docs.config import SETTINGS, load_settings
from dla_docs.measure.conventions import CONVENTIONS, SETTABLE

ROOT = Path(__file__).resolve().parents[1]


def _readme_table() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration"):]
    match = re.search(r"```toml\n(\[tool\.dla-docs\]\n.*?)```", section, re.S)
    assert match, "the README's Configuration section has no [tool.dla-docs] block"
    return match.group(1)


def test_the_readme_table_is_the_declaration():
    """Line by line: the key, its default (or, for an optional one, an example) and its meaning."""
    lines = _readme_table().splitlines()[1:]
    written = []
    for line in lines:
        assignment, _, meaning = line.partition("  # ")
        key, value = next(iter(tomllib.loads(assignment.split("#")[0]).items()))
        written.append((key, value, meaning.strip()))
    declared = [(s.key, s.example if s.default is None else s.default, s.meaning) for s in SETTINGS]
    assert written == declared
    assert all((s.default is None) == ("(optional" in s.meaning) for s in SETTINGS)


def test_the_project_configures_every_declared_setting():
    """The project's own pyproject.toml names every setting, each as the README shows it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["dla-docs"]
    assert project == tomllib.loads(_readme_table())["tool"]["dla-docs"]
    assert set(project) == {s.key for s in SETTINGS}


def test_an_empty_section_takes_the_documented_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dla-docs]\n", encoding="utf-8")
    settings = load_settings(tmp_path)
    documented = tomllib.loads(_readme_table())["tool"]["dla-docs"]
    optional = {key for key, value in documented.items()
                if re.search(rf"^{re.escape(key)} = .*\(optional", _readme_table(), re.M)}
    assert optional == {"results", "benchmarks", "citation"}
    for key, value in documented.items():
        resolved = getattr(settings, key.replace("-", "_"))
        if key in optional:
            assert resolved is None, key
        elif key == "templates":
            assert resolved == tuple(tmp_path / t for t in value)
        elif isinstance(value, str) and key.endswith("-dir"):
            assert resolved == tmp_path / value, key
        else:
            assert str(resolved) == str(value), key


def test_the_settable_conventions_are_those_a_measurement_totals(tmp_path, capsys):
    assert [c.name for c in SETTABLE] == ["fvcore", "model-index", "multiplications"]
    assert {c.name for c in CONVENTIONS} - {c.name for c in SETTABLE} == {"flop-counter"}
    (tmp_path / "pyproject.toml").write_text('[tool.dla-docs]\nconvention = "flop-counter"\n', encoding="utf-8")
    assert main(["--project", str(tmp_path), "verify"]) == 2
    err = capsys.readouterr().err
    assert "pyproject.toml:2" in err and "tool.dla-docs.convention" in err
    assert "unknown convention 'flop-counter'; known: fvcore, model-index, multiplications" in err


@pytest.mark.parametrize("name", ["fvcore", "model-index", "multiplications"])
def test_each_settable_convention_loads(tmp_path, name):
    (tmp_path / "pyproject.toml").write_text(f'[tool.dla-docs]\nconvention = "{name}"\n', encoding="utf-8")
    assert load_settings(tmp_path).convention.name == name
