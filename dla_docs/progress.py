"""Progress bars for the slow steps, shown only when a person is watching (a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

Progress = Callable[[str, bool], None]  # the one progress callback: (item just finished, came from the store)


def no_progress(item: str, cached: bool = False) -> None:
    """The progress callback of a caller that shows none."""


class Steps:
    """Progress for a pipeline of steps: ``steps(description, total)`` starts a new bar.

    Use as a context manager; every bar it started is closed on exit, error or not. Bars
    go to stderr and only when it is a terminal, so CI logs and piped output stay clean.
    """

    def __init__(self) -> None:
        self._bars: list[Any] = []

    def __call__(self, description: str, total: int) -> Progress:
        if not sys.stderr.isatty():
            return lambda item, cached=False: None
        from tqdm import tqdm  # only when a person is watching

        bar = tqdm(total=total, desc=description, unit="step", file=sys.stderr, leave=False)
        self._bars.append(bar)

        def progress(item: str, cached: bool = False) -> None:
            bar.set_postfix_str(f"{item}{' (cached)' if cached else ''}", refresh=False)
            bar.update(1)

        return progress

    def __enter__(self) -> "Steps":
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self._bars:
            bar.close()
