"""What a command runs on: the templates and folders named on its command line (or the
configured ones), resolved against the working folder and the project."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dla_docs.config import Settings
from dla_docs.errors import Location
from dla_docs.fs import inside
from dla_docs.metadata import Template
from dla_docs.zoo.variants import list_models


def entries_to_measure(templates: Sequence[Template]) -> list[str]:
    """The zoo variants the templates document, in the zoo's order, each once."""
    documented = {e.name for t in templates for e in t.index.models}
    return [name for name in list_models() if name in documented]


def resolve_paths(settings: Settings, given: Sequence[Path]) -> list[Path]:
    """``given`` (relative to the working folder) or the configured templates.

    A template named on the command line may lie anywhere: reading a file the user names is
    no risk (only ``--fix`` writes it, and only there). Configured templates, includes,
    assets and every output stay inside the project.
    """
    if not given:
        return list(dict.fromkeys(settings.templates))
    return list(dict.fromkeys(Path(os.path.realpath(Path.cwd() / p)) for p in given))


def resolve_folder(settings: Settings, folder: Path | None, option: str) -> Path | None:
    return None if folder is None else inside(settings.root, str(Path.cwd() / folder), Location(str(folder)), option)
