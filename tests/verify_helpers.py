"""Helpers shared by the verify and fix tests: a throw-away project whose cache is pre-filled."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from conftest import fill_cache

from dla_docs.cli import main
from dla_docs.config import Settings, load_settings

DATA = Path(__file__).parent / "data"
FIXTURES = DATA / "modelindex"
PROJECT = Path(__file__).resolve().parents[1]
COMMITTED = PROJECT / "templates" / "models" / "dla.md"


def make_project(root: Path, templates: Mapping[str, str], extra: str = "") -> Path:
    """A project at ``root`` with ``templates`` (relative path -> text), ``extra`` lines of
    ``[tool.dla-docs]`` settings and a warm measurement cache.

    The cache holds the session's measurements (use the ``measurements`` fixture first), so a
    ``verify`` run measures nothing.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        "[tool.dla-docs]\n"
        f"templates = {json.dumps(list(templates))}\n"
        'cache-dir = ".cache"\n' + extra,
        encoding="utf-8",
    )
    for name, text in templates.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    fill_cache(root / ".cache")
    return root


def settings_for(root: Path) -> Settings:
    return load_settings(root)


def verify_report(settings: Settings, checkpoint_dir: Path | None = None, whole_zoo: bool = False):
    """What ``verify`` reports for the project of ``settings`` (:func:`dla_docs.run.verify`, the
    users' path); unless ``whole_zoo``, less the variants its small templates leave undocumented."""
    from dla_docs import run as commands

    report = commands.verify(settings, checkpoint_dir=checkpoint_dir).report
    if not whole_zoo:
        report.findings = [f for f in report.findings if f.kind != "missing-variant"]
    return report


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def run(args, capsys) -> tuple[int, str, str]:
    """The command line as a user types it (any argument as text); never a traceback."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def verify_json(root: Path, capsys, *options) -> tuple[int, dict, str]:
    """``verify --format json`` of the project at ``root``: exit status, the report, standard error."""
    code, out, err = run(["--project", root, "verify", "--format", "json", *options], capsys)
    return code, (json.loads(out) if out.startswith("{") else {}), err


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` except the store (``.cache``, ``.dla-docs-cache``)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {".cache", ".dla-docs-cache"} & set(p.relative_to(root).parts)
    }


def line_of(text: str, fragment: str, occurrence: int = 0) -> int:
    """1-based number of the ``occurrence``-th line containing ``fragment``."""
    return [i for i, line in enumerate(text.split("\n"), 1) if fragment in line][occurrence]


def committed_text() -> str:
    return COMMITTED.read_text(encoding="utf-8")


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")
