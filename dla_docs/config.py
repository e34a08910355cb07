"""Project settings: one documented place, ``[tool.dla-docs]`` in ``pyproject.toml``.

Every command reads its defaults from here and its command-line options override them, so
``dla-docs verify`` in CI and ``dla-docs build`` on a laptop check the same things.

```toml
[tool.dla-docs]
templates = ["templates/models/dla.md"]   # model-index templates, relative to the project
docs-dir = "docs"                         # generated Markdown pages (committed)
site-dir = "site"                         # built HTML site (not committed)
image-size = 224                          # input side length for every measurement
convention = "model-index"                # FLOPs convention: "model-index" or "fvcore"
file-size-tolerance = 0.02                # relative tolerance for recorded File Size
cache-dir = ".dla-docs-cache"             # measurement cache
```
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .counting import CONVENTIONS
from .errors import InputError, Location
from .measure import DEFAULT_IMAGE_SIZE, InvalidImageSize, check_image_size

PYPROJECT = "pyproject.toml"
SECTION = "dla-docs"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; every path is absolute and inside ``root``."""

    root: Path
    templates: tuple[Path, ...]
    docs_dir: Path
    site_dir: Path
    image_size: int = DEFAULT_IMAGE_SIZE
    convention: str = "model-index"
    file_size_tolerance: float = 0.02
    cache_dir: Path | None = None

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` whose pyproject.toml has ``[tool.dla-docs]``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if SECTION in data.get("tool", {}):
                return folder
    return start


def _line_of(text: str, key: str) -> int:
    in_section = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.replace(" ", "") == f"[tool.{SECTION}]"
        elif in_section and stripped.split("=", 1)[0].strip().strip('"') == key:
            return number
    return 0


def inside(root: Path, relative: str, where: Location, field: str) -> Path:
    """``root / relative``, refusing anything that would resolve outside ``root``."""
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise InputError(where, field, f"path {relative!r} points outside the project folder {root}")
    return path


def load_settings(root: Path) -> Settings:
    """Settings for the project at ``root``; defaults where pyproject.toml is silent."""
    root = root.resolve()
    file = root / PYPROJECT
    table: dict[str, Any] = {}
    text = ""
    if file.is_file():
        try:
            text = file.read_text(encoding="utf-8")
            table = tomllib.loads(text).get("tool", {}).get(SECTION, {})
        except UnicodeDecodeError as exc:
            raise InputError(file, "", f"not UTF-8 text ({exc.reason})") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(file, "", f"invalid TOML: {exc}") from None

    def where(key: str) -> Location:
        return Location(file, _line_of(text, key))

    def get(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, kind):  # no setting is a boolean
            raise InputError(where(key), f"tool.{SECTION}.{key}", f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    known = {"templates", "docs-dir", "site-dir", "image-size", "convention", "file-size-tolerance", "cache-dir"}
    for key in table:
        if key not in known:
            raise InputError(where(key), f"tool.{SECTION}.{key}", f"unknown setting; known: {', '.join(sorted(known))}")
    templates = get("templates", list, ["templates/models/dla.md"])
    if not templates or not all(isinstance(t, str) for t in templates):
        raise InputError(where("templates"), f"tool.{SECTION}.templates", "expected a non-empty list of paths")
    image_size = get("image-size", int, DEFAULT_IMAGE_SIZE)
    try:
        check_image_size(image_size)
    except InvalidImageSize as exc:
        raise InputError(where("image-size"), f"tool.{SECTION}.image-size", str(exc)) from None
    convention = get("convention", str, "model-index")
    if convention not in CONVENTIONS:
        raise InputError(where("convention"), f"tool.{SECTION}.convention",
                         f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    tolerance = float(get("file-size-tolerance", (int, float), 0.02))
    if not 0 <= tolerance < 1:
        raise InputError(where("file-size-tolerance"), f"tool.{SECTION}.file-size-tolerance",
                         f"must be a fraction in [0, 1), got {tolerance}")

    def path(key: str, default: str) -> Path:
        return inside(root, get(key, str, default), where(key), f"tool.{SECTION}.{key}")

    return Settings(
        root=root,
        templates=tuple(inside(root, t, where("templates"), f"tool.{SECTION}.templates") for t in templates),
        docs_dir=path("docs-dir", "docs"),
        site_dir=path("site-dir", "site"),
        image_size=image_size,
        convention=convention,
        file_size_tolerance=tolerance,
        cache_dir=path("cache-dir", ".dla-docs-cache"),
    )
