"""The configured results and benchmark sources, read once per command (see
:mod:`dla_docs.metadata.results` for what each holds and how a bad row is reported)."""

from __future__ import annotations

from dla_docs.config import Settings
from dla_docs.metadata.results import BenchmarkSource, ResultsSource, read_benchmarks, read_results
from dla_docs.zoo.variants import list_models


def load_results(settings: Settings) -> ResultsSource | None:
    """The configured results source, read and validated (``None`` when none is configured)."""
    if settings.results is None:
        return None
    return read_results(settings.results, settings.root, set(list_models()))


def load_benchmarks(settings: Settings) -> BenchmarkSource | None:
    """The configured benchmark source, read and validated (``None`` when none is configured)."""
    if settings.benchmarks is None:
        return None
    return read_benchmarks(settings.benchmarks, settings.root, set(list_models()))
