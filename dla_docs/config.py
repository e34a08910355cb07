"""Project settings: one documented place, ``[tool.dla-docs]`` in ``pyproject.toml``.

Every command reads its defaults from here and its command-line options override them, so
``dla-docs verify`` in CI and ``dla-docs build`` on a laptop check the same things.

Each setting is declared once, in :data:`SETTINGS`, with its default and its meaning; the
README's configuration table is that declaration written out (the tests check it).

``results`` and ``benchmarks`` are optional: without them no accuracy is checked against a
source and no throughput is shown. ``citation`` is optional too: when set, ``verify`` requires
that file and checks it is fresh (a deleted one is a finding); when not, a ``CITATION.cff``
in the project folder is checked if it exists.

Every path must stay inside the project folder once links are resolved. A build replaces
``docs-dir`` and ``site-dir`` wholly, so each must be a folder of its own: not the project
folder, not a file, not nested in the other, and apart from ``templates/``, the cache and
``.git``. A bad setting is an :class:`~dla_docs.errors.InputError` naming its line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dla_docs.errors import InputError, Location
from dla_docs.fs import decode_utf8, inside, read_bounded, shown
from dla_docs.measure.conventions import MODEL_INDEX, SETTABLE, Convention
from dla_docs.measure.spec import DEFAULT_IMAGE_SIZE, InvalidImageSize, check_image_size

PYPROJECT = "pyproject.toml"
SECTION = "dla-docs"
MAX_PYPROJECT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    """One key of ``[tool.dla-docs]``: its TOML type, its default and what it means.

    ``kind``: ``"templates"`` (a non-empty list of files), ``"folder"``, ``"file"``,
    ``"image-size"``, ``"convention"`` or ``"fraction"``. ``default`` is as written in TOML;
    ``None`` makes the setting optional (unset, nothing is read), and ``example`` is then
    what the README shows.
    """

    key: str
    kind: Literal["templates", "folder", "file", "image-size", "convention", "fraction"]
    default: Any
    meaning: str
    example: Any = None

    @property
    def field(self) -> str:
        """The :class:`Settings` attribute it resolves to."""
        return self.key.replace("-", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting("templates", "templates", ["templates/models/dla.md"], "model-index templates, relative to the project"),
    Setting("docs-dir", "folder", "docs", "generated Markdown pages (committed)"),
    Setting("site-dir", "folder", "site", "built HTML site (not committed)"),
    Setting("image-size", "image-size", DEFAULT_IMAGE_SIZE, "input side for every measurement (multiple of 32)"),
    Setting("convention", "convention", MODEL_INDEX.name,
            "FLOPs convention: " + ", ".join(f'"{c.name}"' for c in SETTABLE[:-1]) + f' or "{SETTABLE[-1].name}"'),
    Setting("file-size-tolerance", "fraction", 0.02, "relative tolerance for recorded File Size"),
    Setting("cache-dir", "folder", ".dla-docs-cache", "measurement cache"),
    Setting("results", "file", None, "recorded accuracies: timm's results-*.csv rows (optional)",
            example="data/timm_results_dla.csv"),
    Setting("benchmarks", "file", None, "recorded throughput: timm's benchmark rows (optional)",
            example="data/timm_benchmark_dla.csv"),
    Setting("citation", "file", None,
            "the CITATION.cff the project publishes (optional; required by verify when set)",
            example="CITATION.cff"),
)
_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings (see :data:`SETTINGS`); every path is absolute and inside ``root``."""

    root: Path
    templates: tuple[Path, ...]
    docs_dir: Path
    site_dir: Path
    image_size: int
    convention: Convention
    file_size_tolerance: float
    cache_dir: Path
    results: Path | None
    benchmarks: Path | None
    citation: Path | None       # the CITATION.cff the project publishes; required when set


_KIND_NAMES: dict[type | tuple[type, ...], str] = {
    int: "an integer", str: "a string", list: "a list", (int, float): "a number",
}
_TOML_TYPES: dict[str, type | tuple[type, ...]] = {
    "templates": list, "folder": str, "file": str, "image-size": int, "convention": str, "fraction": (int, float),
}


class NoProjectError(InputError):
    """No dla-docs project where one was looked for: nothing is read or written then."""


_NO_PROJECT_HINT = "run dla-docs inside the project or pass --project DIR"


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` whose pyproject.toml has ``[tool.dla-docs]``.

    A pyproject.toml that cannot be parsed but names the section is taken as the project,
    so that its own error is reported (not a folder above it, nor the working folder). When
    no folder qualifies, :class:`NoProjectError`: nothing may be written (no lock, no cache)
    before the project is known.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                if _names_section(candidate):
                    return folder
                continue
            tool = data.get("tool", {})
            if isinstance(tool, dict) and SECTION in tool:
                return folder
    raise NoProjectError(Location(start), "--project",
                         f"no dla-docs project here: no {PYPROJECT} with a [tool.{SECTION}] section in this "
                         f"folder or any folder above it; {_NO_PROJECT_HINT}")


def _names_section(file: Path) -> bool:
    try:
        with file.open("rb") as handle:
            head = handle.read(1024 * 1024)
    except OSError:
        return False
    return re.search(rb"^\s*\[\s*tool\s*\.\s*[\"']?dla-docs|^\s*dla-docs\s*=", head, re.M) is not None


def _line_of(text: str, key: str) -> int:
    in_section = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.replace(" ", "") == f"[tool.{SECTION}]"
        elif in_section and stripped.split("=", 1)[0].strip().strip('"') == key:
            return number
    return 0


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)|\(at end of document\)")


def _toml_error(file: Path, display: str, text: str, exc: tomllib.TOMLDecodeError) -> InputError:
    """One line for a TOML syntax error: ``pyproject.toml:LINE:COL: <key on that line>: why``.

    ``tomllib`` (Python 3.11) keeps the position only in its message, so it is read back
    from there; "end of document" is the last line.
    """
    message = str(exc)
    match = _TOML_POSITION.search(message)
    line = column = 0
    if match and match.group(1):
        line, column = int(match.group(1)), int(match.group(2))
    elif match:
        line = max(1, len(text.splitlines()))
    reason = _TOML_POSITION.sub("", message).strip()
    return InputError(Location(display, line, column), _key_on_line(text, line), f"invalid TOML: {reason}")


def _key_on_line(text: str, line: int) -> str:
    """``tool.dla-docs.image-size`` for the ``key = value`` written on ``line`` (``""`` if none).

    Written for broken files: the section is the last ``[header]`` above the line and the
    key is whatever precedes its ``=``.
    """
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    section = ""
    for above in lines[:line - 1]:
        header = re.match(r"\s*\[+\s*([^\]]+?)\s*\]+", above)
        if header:
            section = header.group(1).replace(" ", "")
    key, equals, _ = lines[line - 1].partition("=")
    key = key.strip().strip('"\'')
    if not equals or not key or key.startswith(("#", "[")):
        return section
    return f"{section}.{key}" if section else key


def _display(file: Path) -> str:
    """How messages name a project file: relative to the working folder when it is inside it."""
    try:
        cwd = Path.cwd()
    except OSError:  # the working folder is gone
        return str(file)
    return shown(file, cwd)


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def check_output_dirs(root: Path, outputs: dict[str, tuple[Path, Location]],
                      protected: dict[str, Path]) -> None:
    """Refuse output folders that a build would wipe together with something else.

    A build replaces ``docs-dir`` and ``site-dir`` wholly (an exchange with a staged folder),
    so each must be a folder of its own: not the project folder, not an existing file, not
    nested in the other, and not holding or inside the templates, the cache or ``.git``.
    """
    items = list(outputs.items())
    for i, (key, (path, where)) in enumerate(items):
        field = f"tool.{SECTION}.{key}"
        shown = path.relative_to(root).as_posix() if path != root else "."
        if path == root:
            raise InputError(where, field, "must be a folder inside the project, not the project folder itself: "
                             "a build replaces it wholly")
        if path.exists() and not path.is_dir():
            raise InputError(where, field, f"{shown!r} is a file; a build replaces this folder wholly")
        for other_key, (other, _) in items[i + 1:]:
            if _overlap(path, other):
                raise InputError(where, field, f"{shown!r} overlaps {other_key}; each is replaced wholly by a build")
        for name, kept in protected.items():
            if _overlap(path, kept):
                raise InputError(where, field, f"{shown!r} overlaps the {name}, which a build must not replace")


def load_settings(root: Path) -> Settings:
    """Settings for the project at ``root``; defaults where pyproject.toml is silent."""
    root = root.resolve()
    file = root / PYPROJECT
    display = _display(file)
    if not file.is_file():
        raise NoProjectError(Location(root), "--project",
                             f"not a dla-docs project: no {PYPROJECT} in {root}; {_NO_PROJECT_HINT}")
    text = _read_text(file, display)
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(file, display, text, exc) from None
    if not isinstance(tool, dict) or SECTION not in tool:
        raise NoProjectError(Location(display), f"tool.{SECTION}",
                             f"not a dla-docs project: {PYPROJECT} has no [tool.{SECTION}] section; add one "
                             "(an empty section takes every default)")
    table: dict[str, Any] = tool[SECTION]
    if not isinstance(table, dict):
        raise InputError(Location(display, _section_line(text)), f"tool.{SECTION}",
                         f"expected a table ([tool.{SECTION}]), got {table!r}")

    def where(key: str) -> Location:
        return Location(display, _line_of(text, key))

    for key in table:
        if key not in _BY_KEY:
            raise InputError(where(key), f"tool.{SECTION}.{key}", f"unknown setting; known: {', '.join(sorted(_BY_KEY))}")
    values = {s.field: _setting(s, table, root, where(s.key)) for s in SETTINGS}
    settings = Settings(root=root, **values)
    protected = {"templates folder": root / "templates", "measurement cache": settings.cache_dir,
                 ".git folder": root / ".git", **{f"template {t.relative_to(root).as_posix()}": t
                                                  for t in settings.templates},
                 **{f"{s.key} file": getattr(settings, s.field) for s in SETTINGS
                    if s.kind == "file" and getattr(settings, s.field) is not None}}
    check_output_dirs(root, {"docs-dir": (settings.docs_dir, where("docs-dir")),
                             "site-dir": (settings.site_dir, where("site-dir"))}, protected)
    if settings.citation is not None:
        _check_citation(settings, where("citation"), protected)
    return settings


def _setting(setting: Setting, table: dict[str, Any], root: Path, where: Location) -> Any:
    """One setting's value, checked and resolved: the default where ``table`` is silent."""
    field = f"tool.{SECTION}.{setting.key}"
    if setting.key not in table and setting.default is None:
        return None
    value = table.get(setting.key, setting.default)
    kind = _TOML_TYPES[setting.kind]
    if isinstance(value, bool) or not isinstance(value, kind):  # no setting is a boolean
        raise InputError(where, field, f"expected {_KIND_NAMES[kind]}, got {value!r}")
    if setting.kind == "templates":
        if not value or not all(isinstance(t, str) for t in value):
            raise InputError(where, field, "expected a non-empty list of paths")
        return tuple(_path(root, t, where, field, "a file name") for t in value)
    if setting.kind in ("folder", "file"):
        return _path(root, value, where, field, f"a {'folder' if setting.kind == 'folder' else 'file'} name")
    if setting.kind == "image-size":
        try:
            return check_image_size(value)
        except InvalidImageSize as exc:
            raise InputError(where, field, str(exc)) from None
    if setting.kind == "convention":
        for convention in SETTABLE:
            if value == convention.name:
                return convention
        raise InputError(where, field, f"unknown convention {value!r}; known: {', '.join(c.name for c in SETTABLE)}")
    tolerance = float(value)  # "fraction"
    if not 0 <= tolerance < 1:
        raise InputError(where, field, f"must be a fraction in [0, 1), got {tolerance}")
    return tolerance


def _path(root: Path, value: str, where: Location, field: str, what: str) -> Path:
    if not value.strip() or "\0" in value:
        raise InputError(where, field, f"expected {what}, got {value!r}")
    return inside(root, value, where, field)


CITATION_NAME = "CITATION.cff"  # the Citation File Format's own name for the file


def _check_citation(settings: Settings, where: Location, protected: dict[str, Path]) -> None:
    """``citation`` is a file ``export cff`` writes, so it must be a ``CITATION.cff`` of its own:
    never another file the project manages (pyproject.toml, mkdocs.yml, a data file, a template,
    a module, the README), nor inside the generated folders, the cache or ``.git``."""
    field, path = f"tool.{SECTION}.citation", settings.citation
    assert path is not None
    shown = path.relative_to(settings.root).as_posix()
    if path.name != CITATION_NAME:
        raise InputError(where, field, f"{shown!r} is not a {CITATION_NAME}: `export cff` writes this file, so it "
                         f"must be named {CITATION_NAME} (the name the Citation File Format requires), never "
                         "another file of the project")
    others = {**{k: v for k, v in protected.items() if v != path or k != "citation file"},
              "docs-dir": settings.docs_dir, "site-dir": settings.site_dir}
    for name, kept in others.items():
        if _overlap(path, kept):
            raise InputError(where, field, f"{shown!r} lies in or is the {name}, which `export cff` must not "
                             "write to")


def _read_text(file: Path, display: str) -> str:
    """``pyproject.toml`` decoded from UTF-8; an unreadable one is an :class:`InputError`."""
    return decode_utf8(read_bounded(file, MAX_PYPROJECT_BYTES, display), display, _key_on_line)

def _section_line(text: str) -> int:
    """The line of ``[tool.dla-docs]`` or of a ``dla-docs =`` key under ``[tool]`` (0 if absent)."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.replace(" ", "")
        if stripped.startswith((f"[tool.{SECTION}]", f"{SECTION}=", f'"{SECTION}"=')):
            return number
    return 0
