"""The project's inputs, the first stage: the templates and the sources, each read once.

:func:`read_inputs` reads what the settings name (the configured templates and any others a
command names, the results, benchmark and context sources, the committed deploy record) into
one frozen :class:`Inputs`; a bad file is reported here, in a second, before anything waits on
measuring. The later stages are functions of it: the checks
(:func:`dla_docs.checks.verify.verify_templates`), the site model
(:func:`dla_docs.render.site_model.site_model`) and the renderers. Nothing here measures,
checks or renders.
"""

from __future__ import annotations

from collections.abc import Sequence
import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dla_docs.config import Settings

if TYPE_CHECKING:
    from dla_docs.metadata import Template
    from dla_docs.metadata.stored import ParsedIndexes
    from dla_docs.metadata.context import ContextSource
    from dla_docs.metadata.results import BenchmarkSource, ResultsSource


@dataclass(frozen=True)
class Inputs:
    """What a command reads of the project, once."""

    settings: Settings
    templates: tuple[Template, ...]  # the ones the command reads (configured or named), each once
    results: ResultsSource | None    # None: none configured
    benchmarks: BenchmarkSource | None
    context: ContextSource | None    # None: the project has no context file
    deploy_record: DeployRecord      # the committed deploy record, as read

    @functools.cached_property
    def deploy(self) -> dict[str, Any]:
        """Each variant's DeployCard from the committed record (none when it cannot be read:
        ``verify`` reports that)."""
        from dla_docs.deploy.record import deploy_cards

        return deploy_cards(self.deploy_record.record) if self.deploy_record.error is None else {}

    def at(self, paths: Sequence[Path]) -> list[Template]:
        """The templates read from ``paths``, in that order."""
        by_path = {t.path: t for t in self.templates}
        return [by_path[p] for p in dict.fromkeys(paths) if p in by_path]

    @property
    def configured(self) -> list[Template]:
        """The configured templates, in the configured order: the ones the pages show."""
        return self.at(self.settings.templates)

    def reread(self) -> Inputs:
        """The same inputs with the templates read again (``--fix`` changed them on disk)."""
        from dla_docs.metadata import read_templates

        return replace(self, templates=tuple(read_templates([t.path for t in self.templates], self.settings.root)))


def read_templates(settings: Settings, paths: Sequence[Path], parsed: ParsedIndexes | None = None) -> list[Template]:
    """The templates at ``paths``, each read once, every problem of all of them in one error.
    The configured ones were held inside the project when the settings were read; the others
    were named by the user (``--template``), who may name any file to be read. With ``parsed``,
    a block already parsed from the same text is taken from the store."""
    from dla_docs.metadata import read_templates as read

    return read(list(dict.fromkeys(paths)), settings.root, parsed)


@dataclass(frozen=True)
class DeployRecord:
    """The committed deploy record, read once: its content (``None``: the project has none) or
    why it could not be read."""

    record: dict | None
    error: str | None = None


def read_deploy_record(settings: Settings) -> DeployRecord:
    from dla_docs.deploy.record import RecordError, read_record
    from dla_docs.errors import DlaDocsError

    try:
        return DeployRecord(read_record(settings.root))
    except (RecordError, DlaDocsError) as exc:
        return DeployRecord(None, str(exc))


def read_inputs(settings: Settings, templates: Sequence[Template]) -> Inputs:
    """The sources beside ``templates`` (already read), each read and validated once."""
    from dla_docs.metadata.context import load_context
    from dla_docs.metadata.sources import load_benchmarks, load_results

    return Inputs(settings, tuple(templates), load_results(settings), load_benchmarks(settings),
                  load_context(settings.root), read_deploy_record(settings))
